"""a redelivery names the delivery it repeats

Revision ID: b2e813e8e0d5
Revises: 55ef1e280119
Create Date: 2026-12-02 13:08:31.214531

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b2e813e8e0d5'
down_revision = '55ef1e280119'
branch_labels = None
depends_on = None


def upgrade():
    # In place, never by batch mode's copy of the table: on SQLite dropping the old copy of
    # `deliveries` would delete every attempt that refers to it, by cascade. No foreign key for
    # the same reason (SQLite can add or drop one only by copying the table).
    op.add_column('deliveries', sa.Column('redelivery_of', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_deliveries_redelivery_of'), 'deliveries', ['redelivery_of'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_deliveries_redelivery_of'), table_name='deliveries')
    op.execute('ALTER TABLE deliveries DROP COLUMN redelivery_of')

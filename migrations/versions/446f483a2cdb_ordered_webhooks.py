"""ordered webhooks

Revision ID: 446f483a2cdb
Revises: fe0e65c3af51
Create Date: 2026-12-02 13:37:58.450269

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '446f483a2cdb'
down_revision = 'fe0e65c3af51'
branch_labels = None
depends_on = None


def upgrade():
    # In place, never by batch mode's copy: a copy of `webhooks` would cascade-delete rows.
    op.add_column('deliveries', sa.Column('waiting_behind', sa.Integer(), nullable=True))
    op.add_column(
        'webhooks', sa.Column('ordered', sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade():
    op.execute('ALTER TABLE webhooks DROP COLUMN ordered')
    op.execute('ALTER TABLE deliveries DROP COLUMN waiting_behind')

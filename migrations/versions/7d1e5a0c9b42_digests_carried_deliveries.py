"""digests: carried deliveries name their carrier, a rate-waiting index; a 429 pauses a webhook

Revision ID: 7d1e5a0c9b42
Revises: 3c1c8250e55d
Create Date: 2026-12-02 19:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d1e5a0c9b42'
down_revision = '3c1c8250e55d'
branch_labels = None
depends_on = None


def upgrade():
    # In place, never by batch mode's copy of the table (see b2e813e8e0d5): no foreign key.
    op.add_column('deliveries', sa.Column('carried_by', sa.Integer(), nullable=True))
    op.add_column('webhooks', sa.Column('paused_until', sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f('ix_deliveries_carried_by'), 'deliveries', ['carried_by'], unique=False)
    op.create_index(
        'ix_deliveries_rate_waiting',
        'deliveries',
        ['webhook_id', 'id'],
        unique=False,
        sqlite_where=sa.text('rate_window IS NOT NULL'),
        postgresql_where=sa.text('rate_window IS NOT NULL'),
    )


def downgrade():
    op.drop_index(
        'ix_deliveries_rate_waiting',
        table_name='deliveries',
        sqlite_where=sa.text('rate_window IS NOT NULL'),
        postgresql_where=sa.text('rate_window IS NOT NULL'),
    )
    op.drop_index(op.f('ix_deliveries_carried_by'), table_name='deliveries')
    op.execute('ALTER TABLE deliveries DROP COLUMN carried_by')
    op.execute('ALTER TABLE webhooks DROP COLUMN paused_until')

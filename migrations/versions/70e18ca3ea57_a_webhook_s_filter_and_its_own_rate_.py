"""a webhook's filter and its own rate limit

Revision ID: 70e18ca3ea57
Revises: b36ffd45d1c6
Create Date: 2026-12-02 13:01:54.909913

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '70e18ca3ea57'
down_revision = 'b36ffd45d1c6'
branch_labels = None
depends_on = None


def upgrade():
    # In place, never by batch mode's copy of the table: on SQLite dropping the old copy of
    # `webhooks` would delete every delivery that refers to it, by cascade.
    op.add_column('webhooks', sa.Column('filter', sa.Text(), nullable=True))
    op.add_column('webhooks', sa.Column('rate_limit', sa.String(length=16), nullable=True))
    # Partial: a trigger reads only the owner's webhooks that have a filter.
    op.create_index(
        'ix_webhooks_filtered',
        'webhooks',
        ['user_id'],
        unique=False,
        postgresql_where=sa.text('filter IS NOT NULL'),
        sqlite_where=sa.text('filter IS NOT NULL'),
    )


def downgrade():
    op.drop_index('ix_webhooks_filtered', table_name='webhooks')
    op.execute('ALTER TABLE webhooks DROP COLUMN rate_limit')
    op.execute('ALTER TABLE webhooks DROP COLUMN filter')

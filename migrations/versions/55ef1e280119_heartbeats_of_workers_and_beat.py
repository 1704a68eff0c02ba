"""heartbeats of workers and beat; webhooks indexed by is_active

Revision ID: 55ef1e280119
Revises: b36ffd45d1c6
Create Date: 2026-12-02 13:03:07.464988

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '55ef1e280119'
down_revision = 'b36ffd45d1c6'
branch_labels = None
depends_on = None


def upgrade():
    # One row per worker or beat process, rewritten every 15 s: a table of a few rows.
    op.create_table('heartbeats',
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('instance', sa.String(length=255), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('role', 'instance', name=op.f('pk_heartbeats'))
    )
    # In place, never by batch mode's copy of `webhooks` (see d1784d5d9c2b): the scrape counts
    # the disabled webhooks through it.
    op.create_index('ix_webhooks_is_active', 'webhooks', ['is_active'], unique=False)


def downgrade():
    op.drop_index('ix_webhooks_is_active', table_name='webhooks')
    op.drop_table('heartbeats')

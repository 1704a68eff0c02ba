"""The delivery rate is counted per owner and URL, not per webhook

Revision ID: 3c1c8250e55d
Revises: b2e813e8e0d5
Create Date: 2026-12-02 13:07:53.638734

The table holds only the counts of the current and coming rate windows, which expire within
the hour: it is made anew rather than converted (autogenerate saw neither the new primary key
nor that a webhook's counts cannot be turned into an URL's). At worst, the windows open at the
moment of the upgrade grant their budget once more.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c1c8250e55d'
down_revision = 'b2e813e8e0d5'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table('delivery_rate_windows')
    op.create_table('delivery_rate_windows',
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('url_sha256', sa.String(length=64), nullable=False),
    sa.Column('window_start', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_delivery_rate_windows_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('owner_id', 'url_sha256', 'window_start', name=op.f('pk_delivery_rate_windows'))
    )


def downgrade():
    op.drop_table('delivery_rate_windows')
    op.create_table('delivery_rate_windows',
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], name=op.f('fk_delivery_rate_windows_webhook_id_webhooks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('webhook_id', 'window_start', name=op.f('pk_delivery_rate_windows'))
    )

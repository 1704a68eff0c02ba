"""an admin's disable holds

Revision ID: 9af0719e281f
Revises: c56c18d990f3
Create Date: 2026-12-02 10:02:53.694835

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9af0719e281f'
down_revision = 'c56c18d990f3'
branch_labels = None
depends_on = None


def upgrade():
    # In place, not by batch mode's copy: on SQLite dropping the old copy of `webhooks` would
    # delete every delivery and subscription by cascade.
    op.add_column(
        'webhooks',
        sa.Column('disabled_by_admin', sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    # Webhooks an admin disabled before this was recorded, by the reason admins gave.
    webhooks = sa.table(
        'webhooks',
        sa.column('is_active', sa.Boolean),
        sa.column('disabled_reason', sa.Text),
        sa.column('disabled_by_admin', sa.Boolean),
    )
    op.execute(
        sa.update(webhooks)
        .where(webhooks.c.is_active.is_(False), webhooks.c.disabled_reason == 'Disabled by an admin.')
        .values(disabled_by_admin=True)
    )


def downgrade():
    op.execute('ALTER TABLE webhooks DROP COLUMN disabled_by_admin')

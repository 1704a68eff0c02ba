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
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('disabled_by_admin', sa.Boolean(), server_default=sa.false(), nullable=False)
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
    with op.batch_alter_table('webhooks', schema=None) as batch_op:
        batch_op.drop_column('disabled_by_admin')

"""a delivery's time to live

Revision ID: fe0e65c3af51
Revises: c25e20b36f99
Create Date: 2026-12-02 13:28:13.419251

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fe0e65c3af51'
down_revision = 'c25e20b36f99'
branch_labels = None
depends_on = None


def upgrade():
    # In place, never by batch mode's copy: deliveries' attempts refer to them by cascade.
    op.add_column('deliveries', sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.execute('ALTER TABLE deliveries DROP COLUMN expires_at')

"""an admin can disable a user

Revision ID: e4a7c2d9b1f0
Revises: 7d1e5a0c9b42
Create Date: 2026-12-02 18:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4a7c2d9b1f0'
down_revision = '7d1e5a0c9b42'
branch_labels = None
depends_on = None


def upgrade():
    # In place, not by batch mode's copy: on SQLite dropping the old copy of `users` would
    # delete every webhook, event and token by cascade.
    op.add_column('users', sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.execute('ALTER TABLE users DROP COLUMN disabled_at')

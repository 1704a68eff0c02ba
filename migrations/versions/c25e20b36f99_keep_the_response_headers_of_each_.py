"""keep the response headers of each attempt

Revision ID: c25e20b36f99
Revises: d1784d5d9c2b
Create Date: 2026-12-02 12:59:47.359657

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c25e20b36f99'
down_revision = 'd1784d5d9c2b'
branch_labels = None
depends_on = None


def upgrade():
    # In place, as the other column changes are: batch mode would copy the table.
    op.add_column('delivery_attempts', sa.Column('response_headers', sa.JSON(), nullable=True))


def downgrade():
    op.execute('ALTER TABLE delivery_attempts DROP COLUMN response_headers')

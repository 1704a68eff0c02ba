"""heartbeats of workers and beat

Revision ID: 55ef1e280119
Revises: d1784d5d9c2b
Create Date: 2026-12-02 13:03:07.464988

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '55ef1e280119'
down_revision = 'd1784d5d9c2b'
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


def downgrade():
    op.drop_table('heartbeats')

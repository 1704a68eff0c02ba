"""operator keys and tenants' external ids

Revision ID: d1784d5d9c2b
Revises: 9af0719e281f
Create Date: 2026-12-02 12:56:35.271508

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd1784d5d9c2b'
down_revision = '9af0719e281f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('operator_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operator_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_operator_keys_key_hash'))
    )
    # In place, never by batch mode's copy of the table: on SQLite dropping the old copy of
    # `users` would delete every row that refers to it, by cascade. A unique index, which SQLite
    # can add to a table in place, where it cannot add a constraint.
    op.add_column('users', sa.Column('external_id', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_users_external_id'), 'users', ['external_id'], unique=True)


def downgrade():
    op.drop_index(op.f('ix_users_external_id'), table_name='users')
    op.execute('ALTER TABLE users DROP COLUMN external_id')
    op.drop_table('operator_keys')

"""tenants' names and sign-in links

Revision ID: dce5bcd76f65
Revises: 446f483a2cdb
Create Date: 2026-12-02 13:01:56.910982

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'dce5bcd76f65'
down_revision = '446f483a2cdb'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('return_to', sa.String(length=2048), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sign_in_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sign_in_links_token_hash'))
    )
    op.create_index(op.f('ix_sign_in_links_user_id'), 'sign_in_links', ['user_id'], unique=False)
    # In place, never by batch mode's copy of the table: on SQLite dropping the old copy of
    # `users` would delete every row that refers to it, by cascade.
    op.add_column('users', sa.Column('name', sa.String(length=100), nullable=True))


def downgrade():
    op.execute('ALTER TABLE users DROP COLUMN name')
    op.drop_index(op.f('ix_sign_in_links_user_id'), table_name='sign_in_links')
    op.drop_table('sign_in_links')

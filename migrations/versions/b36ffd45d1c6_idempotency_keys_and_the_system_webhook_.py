"""idempotency keys and the system webhook for operator notices

Revision ID: b36ffd45d1c6
Revises: dce5bcd76f65
Create Date: 2026-12-02 13:01:51.144227

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b36ffd45d1c6'
down_revision = 'dce5bcd76f65'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('deliveries', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('user_id', 'key', name=op.f('uq_idempotency_keys_user_id'))
    )
    op.create_index(op.f('ix_idempotency_keys_created_at'), 'idempotency_keys', ['created_at'], unique=False)
    # In place, never by batch mode's copy of the table: on SQLite dropping the old copy of
    # `webhooks` would delete every delivery that refers to it, by cascade.
    op.add_column(
        'webhooks',
        sa.Column('is_system', sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade():
    op.execute('ALTER TABLE webhooks DROP COLUMN is_system')
    op.drop_index(op.f('ix_idempotency_keys_created_at'), table_name='idempotency_keys')
    op.drop_table('idempotency_keys')

"""name the delivery table deliveries (it was webhook_events), and its attempts' key delivery_id

The model is `Delivery`; the table, its indexes and constraints, and the attempts' foreign key
take the same name. Every row is kept. PostgreSQL renames in place. SQLite cannot rename a
constraint, and rebuilding a table that another references would run the cascade of its
implicit DELETE (foreign keys are on), so there both tables are copied under the new names.

Revision ID: 8678ec75fa67
Revises: 375666cc4884
Create Date: 2026-12-02 09:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8678ec75fa67'
down_revision = '375666cc4884'
branch_labels = None
depends_on = None

OLD = ('webhook_events', 'webhook_event_id')
NEW = ('deliveries', 'delivery_id')


def upgrade():
    _rename(OLD, NEW)


def downgrade():
    _rename(NEW, OLD)


def _rename(old, new):
    if op.get_bind().dialect.name == 'postgresql':
        _rename_in_place(old, new)
    else:
        _copy(old, new)


def _names(table, column):
    """Every name that follows the table's (the naming convention of app/extensions.py)."""
    return {
        'table': table,
        'column': column,
        'sequence': f'{table}_id_seq',
        'pk': f'pk_{table}',
        'fk_event': f'fk_{table}_event_id_events',
        'fk_webhook': f'fk_{table}_webhook_id_webhooks',
        'fk_attempts': f'fk_delivery_attempts_{column}_{table}',
        'uq_attempts': f'uq_delivery_attempts_{column}',
        'ix_due': f'ix_{table}_due',
        'ix_event_id': f'ix_{table}_event_id',
        'ix_webhook_log': f'ix_{table}_webhook_log',
    }


def _rename_in_place(old, new):
    before, after = _names(*old), _names(*new)
    op.rename_table(before['table'], after['table'])
    op.execute(f"ALTER SEQUENCE {before['sequence']} RENAME TO {after['sequence']}")
    for index in ('ix_due', 'ix_event_id', 'ix_webhook_log'):
        op.execute(f'ALTER INDEX {before[index]} RENAME TO {after[index]}')
    for constraint in ('pk', 'fk_event', 'fk_webhook'):
        op.execute(
            f"ALTER TABLE {after['table']} RENAME CONSTRAINT {before[constraint]} TO {after[constraint]}"
        )
    op.alter_column('delivery_attempts', before['column'], new_column_name=after['column'])
    for constraint in ('fk_attempts', 'uq_attempts'):
        op.execute(
            f'ALTER TABLE delivery_attempts RENAME CONSTRAINT {before[constraint]} TO {after[constraint]}'
        )


def _copy(old, new):
    """SQLite: the new tables beside the old, the rows copied, then the old ones dropped.

    The old attempts go first: then nothing references the old deliveries when they go.
    """
    before, after = _names(*old), _names(*new)
    _create_deliveries(after)
    columns = ', '.join(DELIVERY_COLUMNS)
    op.execute(
        f"INSERT INTO {after['table']} ({columns}) SELECT {columns} FROM {before['table']}"
    )
    _create_attempts('_delivery_attempts_new', after)
    copied = ', '.join(ATTEMPT_COLUMNS)
    op.execute(
        f"INSERT INTO _delivery_attempts_new (id, {after['column']}, {copied}) "
        f"SELECT id, {before['column']}, {copied} FROM delivery_attempts"
    )
    op.drop_table('delivery_attempts')
    for index in ('ix_due', 'ix_event_id', 'ix_webhook_log'):
        op.drop_index(before[index], table_name=before['table'])
    op.drop_table(before['table'])
    op.rename_table('_delivery_attempts_new', 'delivery_attempts')
    op.create_index(after['ix_due'], after['table'], ['status', 'next_attempt_at'])
    op.create_index(after['ix_event_id'], after['table'], ['event_id'])
    op.create_index(after['ix_webhook_log'], after['table'], ['webhook_id', 'id'])


DELIVERY_COLUMNS = (
    'id', 'webhook_id', 'event_id', 'status', 'attempts', 'status_code', 'response_body',
    'success', 'duration_ms', 'error', 'request_body', 'next_attempt_at', 'rate_window',
    'lease_until', 'created_at', 'updated_at',
)
ATTEMPT_COLUMNS = (
    'number', 'started_at', 'request_headers', 'status_code', 'response_body', 'duration_ms',
    'error',
)


# In the order the earlier migrations left them, so that a copy is column for column the same.
def _create_deliveries(names):
    op.create_table(names['table'],
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('success', sa.Boolean(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_body', sa.Text(), nullable=True),
    sa.Column('rate_window', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=names['fk_event'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], name=names['fk_webhook'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=names['pk'])
    )


def _create_attempts(table, names):
    op.create_table(table,
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column(names['column'], sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('request_headers', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint([names['column']], [f"{names['table']}.id"], name=names['fk_attempts'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name='pk_delivery_attempts'),
    sa.UniqueConstraint(names['column'], 'number', name=names['uq_attempts'])
    )

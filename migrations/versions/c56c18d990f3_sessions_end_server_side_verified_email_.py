"""sessions end server-side; verified email addresses

Revision ID: c56c18d990f3
Revises: 8678ec75fa67
Create Date: 2026-12-02 09:52:20.562027

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c56c18d990f3'
down_revision = '8678ec75fa67'
branch_labels = None
depends_on = None


def upgrade():
    # Columns added in place, never by batch mode's copy of the table: on SQLite, dropping the
    # old copy deletes every row that refers to it, by cascade. NOT NULL with an empty default:
    # an empty token names no session (app/sessions.py), so a row inserted without one is safe.
    op.add_column(
        'users', sa.Column('session_token', sa.String(length=32), nullable=False, server_default='')
    )
    op.add_column('users', sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))

    users = sa.table(
        'users',
        sa.column('id', sa.Integer),
        sa.column('session_token', sa.String),
        sa.column('created_at', sa.DateTime(timezone=True)),
        sa.column('email_verified_at', sa.DateTime(timezone=True)),
    )
    connection = op.get_bind()
    # Accounts made before addresses were verified were made by their owners or an admin:
    # they count as verified. Each gets a session token of its own (their old sessions end).
    connection.execute(sa.update(users).values(email_verified_at=users.c.created_at))
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            sa.update(users)
            .where(users.c.id == user_id)
            .values(session_token=secrets.token_urlsafe(24))
        )


def downgrade():
    # ALTER TABLE DROP COLUMN in place (SQLite 3.35 and later), for the reason above.
    op.execute('ALTER TABLE users DROP COLUMN email_verified_at')
    op.execute('ALTER TABLE users DROP COLUMN session_token')

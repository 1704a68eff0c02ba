"""sessions end server-side; verified email addresses

Revision ID: c56c18d990f3
Revises: 375666cc4884
Create Date: 2026-12-02 09:52:20.562027

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c56c18d990f3'
down_revision = '375666cc4884'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))

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

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=32), nullable=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')
        batch_op.drop_column('session_token')

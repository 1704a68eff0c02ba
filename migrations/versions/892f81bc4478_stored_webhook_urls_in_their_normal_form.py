"""Stored webhook URLs in their normal form

Revision ID: 892f81bc4478
Revises: e4a7c2d9b1f0
Create Date: 2026-12-03 07:32:53.623223

No schema change: every `webhooks.url` is rewritten in the spelling `normalise_url` now gives
(RFC 3986's normal form: no default port, no trailing dot on the host, escapes in upper case
and of unreserved characters decoded, no dot segments), so that an owner's webhooks stored
under other spellings of one URL join its delivery budget, which is keyed by the stored URL.

It calls `app.domain.urls.normalise_url` rather than a copy of it: the rule is to be in one
place, and the domain module is plain Python (no Flask, no database). A URL it cannot read
(stored before URLs were checked) is left as it is. The rate windows counted under the old
spellings expire within the hour; at worst, those open at the upgrade grant their budget once
more.
"""
from alembic import op
import sqlalchemy as sa

from app.domain.urls import normalise_url


# revision identifiers, used by Alembic.
revision = '892f81bc4478'
down_revision = 'e4a7c2d9b1f0'
branch_labels = None
depends_on = None

# Rows read and written at a time, by id, so that a large table is never held in memory.
BATCH = 1000

webhooks = sa.table('webhooks', sa.column('id', sa.Integer), sa.column('url', sa.String))


def _normal(url):
    try:
        return normalise_url(url)
    except (ValueError, UnicodeError):
        return url


def upgrade():
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(webhooks.c.id, webhooks.c.url)
            .where(webhooks.c.id > last)
            .order_by(webhooks.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        changed = [
            {'row_id': row.id, 'new_url': _normal(row.url)}
            for row in rows
            if _normal(row.url) != row.url
        ]
        if changed:
            connection.execute(
                webhooks.update()
                .where(webhooks.c.id == sa.bindparam('row_id'))
                .values(url=sa.bindparam('new_url')),
                changed,
            )
        last = rows[-1].id


def downgrade():
    # Nothing to undo: the normal form is a spelling of the same URL, which every earlier
    # version sends to alike, and the old spellings are not kept to be put back.
    pass

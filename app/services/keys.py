"""Changing WEBHOOK_ENCRYPTION_KEY: every stored secret re-encrypted under the first key."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from app.domain.secretbox import InvalidToken, SecretBox
from app.extensions import db
from app.models import Webhook
from app.services.errors import ServiceError

BATCH = 500


def reencrypt_secrets() -> int:
    """Re-encrypt every webhook's secrets under the first key; returns how many webhooks.

    All of it is one transaction: a secret no key opens stops the run and changes nothing.
    """
    box = SecretBox(current_app.config["WEBHOOK_ENCRYPTION_KEY"])
    count = 0
    last_id = 0
    while batch := db.session.scalars(
        sa.select(Webhook).where(Webhook.id > last_id).order_by(Webhook.id).limit(BATCH)
    ).all():
        for webhook in batch:
            try:
                webhook.secret_encrypted = box.reseal(webhook.secret_encrypted)
                if webhook.previous_secret_encrypted:
                    webhook.previous_secret_encrypted = box.reseal(
                        webhook.previous_secret_encrypted
                    )
            except InvalidToken:
                db.session.rollback()
                raise ServiceError(
                    f"No key in WEBHOOK_ENCRYPTION_KEY opens the secret of webhook {webhook.id}; "
                    "list the key it was encrypted with after the new one. Nothing was changed."
                ) from None
        count += len(batch)
        last_id = batch[-1].id
        db.session.flush()  # written, so the session need not keep every webhook in memory
    db.session.commit()
    return count

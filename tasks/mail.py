"""Owner notifications are sent from a worker, so a slow SMTP server never slows a delivery."""

from celery import shared_task
from flask import current_app

from app import queues
from app.services.mail import send_mail as send


@shared_task(name=queues.SEND_MAIL, autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def send_mail(to: str, subject: str, body: str) -> None:
    send(current_app.config, to, subject, body)

"""Names shared between processes: the tasks and the queues they travel through.

The web process publishes by these names (`app.services.queue`), the worker registers its tasks
under them (`tasks/`), and `celeryconfig.py` declares the queues and schedules the periodic
tasks with them. Tasks are sent by name, so the web process never imports the worker's modules.
"""

DELIVER = "signalpost.deliver"
EXPAND = "signalpost.expand_deliveries"
SEND_MAIL = "signalpost.send_mail"
REQUEUE_DUE = "signalpost.requeue_due"
PURGE_LOGS = "signalpost.purge_logs"

# First attempts (and the batches that expand into them), apart from retries, so a backlog of
# retries to failing endpoints never delays a fresh event to a healthy one.
DELIVERIES = "deliveries"
RETRIES = "retries"
# Everything else: owner notifications and the periodic tasks.
DEFAULT = "celery"

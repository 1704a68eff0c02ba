"""Plain-Python rules of webhook delivery: no Flask, no Celery, no database session."""

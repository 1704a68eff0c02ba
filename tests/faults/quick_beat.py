"""What `celery -A tests.faults.quick_beat beat` loads: the real beat, with its periodic tasks
every second rather than every minute and every night, so that a test sees them run often."""

from typing import Any

import tasks

for entry in tasks.celery.conf.beat_schedule.values():
    entry["schedule"] = 1.0


def __getattr__(name: str) -> Any:
    return getattr(tasks, name)

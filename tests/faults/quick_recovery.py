"""What `celery -A tests.faults.quick_recovery worker` loads: the real worker with a sweep
period of seconds, so that a test of seconds can have a retry fall due after it."""

from typing import Any

import tasks
from tasks import recovery

recovery.RECOVER_FOR = 4.0


def __getattr__(name: str) -> Any:
    return getattr(tasks, name)

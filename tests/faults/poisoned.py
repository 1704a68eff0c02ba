"""What `celery -A tests.faults.poisoned worker` loads: the real worker, with a bug in a format
that only events marked `poison` reach, as a bug would be."""

from typing import Any

import tasks
from app.domain import outgoing

_render = outgoing.render


def _render_with_a_bug(format_name: str, document: dict[str, Any], url: str) -> bytes:
    if document["data"].get("poison"):
        raise RuntimeError("the format broke on this event")
    return _render(format_name, document, url)


outgoing.render = _render_with_a_bug


def __getattr__(name: str) -> Any:
    return getattr(tasks, name)

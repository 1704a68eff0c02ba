"""Outbound HTTP: the client that makes each attempt, with its process state (a deadline
thread, a keep-alive pool, a fork hook). Infrastructure, not a rule: the rules it applies are
in `app.domain`. Callers use what this package exports, not its modules' internals.
"""

from app.outbound.client import AttemptResult, post, storable
from app.outbound.pool import close_idle

__all__ = ["AttemptResult", "close_idle", "post", "storable"]

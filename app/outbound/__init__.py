"""Outbound HTTP: the client that makes each attempt, with its process state (a deadline
thread, a keep-alive pool, a fork hook). Infrastructure, not a rule: the rules it applies are
in `app.domain`."""

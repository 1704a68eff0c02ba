"""The bench's endpoint: `gunicorn -k gevent bench.receiver:app`.

It records when each delivery arrived, as `<path> <X-Webhook-ID>` → time.time() in a Redis
hash, and answers 200 at once; under /hang/ it answers only after BENCH_HANG_SECONDS, far past
the delivery timeout, like an endpoint that stopped responding; under /fail/ it answers 500
and records nothing, like a broken one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import gevent
import redis

ARRIVALS = "bench:arrivals"


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(os.environ["BENCH_RECEIVER_REDIS"])


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    arrived = time.time()
    environ["wsgi.input"].read()
    path = environ.get("PATH_INFO", "")
    if path.startswith("/fail/"):
        start_response("500 Internal Server Error", [("Content-Length", "4")])
        return [b"boom"]
    if path.startswith("/hang/"):
        gevent.sleep(float(os.environ.get("BENCH_HANG_SECONDS", "30")))
    else:
        _redis().hset(ARRIVALS, f"{path} {environ.get('HTTP_X_WEBHOOK_ID', '')}", arrived)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]

"""The Redis broker transport keeps one client per channel (app/broker.py)."""

from __future__ import annotations

from app.broker import Channel


def test_redis_broker_channels_keep_one_client(app):
    celery = app.extensions["celery"]
    with celery.connection_for_write() as connection:
        channel = connection.default_channel
        assert isinstance(channel, Channel)
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
            assert first.ping()


def test_messages_still_go_through(app):
    celery = app.extensions["celery"]
    with celery.connection_for_write() as connection:
        queue = connection.SimpleQueue("signalpost-broker-test")
        try:
            queue.put({"n": 1})
            message = queue.get(timeout=5)
            message.ack()
            assert message.payload == {"n": 1}
        finally:
            queue.clear()
            queue.close()

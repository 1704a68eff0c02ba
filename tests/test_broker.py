"""The Redis broker transport (app/broker.py): one client per channel, and no Redis work to
acknowledge a message from a queue consumed without acknowledgements."""

from __future__ import annotations

import uuid

import pytest
from kombu import Consumer, Queue

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


def test_first_attempts_are_consumed_without_acknowledgements_and_retries_with(app):
    queues = app.extensions["celery"].amqp.queues
    assert queues["deliveries"].no_ack is True
    assert queues["retries"].no_ack is False
    # Without acknowledgements only this bounds what a worker takes (tests/faults).
    assert app.extensions["celery"].conf.worker_disable_prefetch is True


def test_the_embedded_broker_acknowledges_every_queue(make_app, tmp_path):
    """Celery bounds a worker's intake from a queue without acknowledgements on Redis only."""
    celery = make_app(
        CELERY_BROKER_URL="filesystem://localhost/", SIGNALPOST_BROKER_DIR=str(tmp_path)
    ).extensions["celery"]
    assert [queue.no_ack for queue in celery.amqp.queues.values()] == [False] * 3
    assert celery.conf.worker_disable_prefetch is False


def test_the_embedded_broker_keeps_all_its_files_in_its_folder(make_app, tmp_path, monkeypatch):
    """`make run` leaves the checkout as it was: kombu's control files too go to instance/."""
    started_in = tmp_path / "checkout"
    started_in.mkdir()
    monkeypatch.chdir(started_in)
    broker = tmp_path / "broker"
    celery = make_app(
        CELERY_BROKER_URL="filesystem://localhost/", SIGNALPOST_BROKER_DIR=str(broker)
    ).extensions["celery"]
    with celery.connection_for_write() as connection:
        connection.SimpleQueue("signalpost-broker-test").put({"n": 1})
    assert list(started_in.iterdir()) == []
    assert sorted(path.name for path in (broker / "control").iterdir())


def test_the_embedded_broker_keeps_its_control_files_in_its_folder(make_app, tmp_path):
    """Not in ./control, inside the checkout, where make run left git status unclean."""
    celery = make_app(
        CELERY_BROKER_URL="filesystem://localhost/", SIGNALPOST_BROKER_DIR=str(tmp_path)
    ).extensions["celery"]
    assert celery.control.ping(timeout=0.2) == []  # declares the control exchanges
    assert (tmp_path / "control" / "reply.celery.pidbox.exchange").is_file()


@pytest.mark.parametrize("no_ack", [True, False])
def test_only_acknowledged_queues_keep_a_record_of_taken_messages(app, monkeypatch, no_ack):
    celery = app.extensions["celery"]
    # A queue of its own: the suite's worker consumes the real ones.
    queue = Queue(f"signalpost-broker-test-{uuid.uuid4().hex[:8]}", no_ack=no_ack)
    with celery.connection_for_write() as connection:
        channel = connection.default_channel
        taken = []
        with Consumer(channel, [queue], callbacks=[lambda _body, message: taken.append(message)]):
            connection.SimpleQueue(queue.name).put({"n": 1})
            connection.drain_events(timeout=5)
            [message] = taken
            with channel.conn_or_acquire() as client:
                assert client.hexists(channel.unacked_key, message.delivery_tag) is not no_ack
                transactions = []
                pipeline = client.pipeline
                monkeypatch.setattr(
                    client, "pipeline", lambda: transactions.append(1) or pipeline()
                )
                message.ack()
                monkeypatch.undo()
                assert not client.hexists(channel.unacked_key, message.delivery_tag)
            # Nothing was recorded, so acknowledging it asks nothing of Redis.
            assert len(transactions) == (0 if no_ack else 1)
        queue(channel).delete()

"""Delivering one event to one webhook, one module per step (docs/architecture.md).

- `claim`: take a delivery's lease and read what its attempt needs, in one statement.
- `send`: check the URL again and make the HTTP request.
- `record`: store the attempt, move the webhook's counters, disable it at the threshold.
- `attempt`: the whole of one attempt, as the worker's task runs it.
- `test_send`: the test action, sent once, now, outside the queue.
- `redelivery`: requeue what is due, replay a period, redeliver one entry.

The database is the source of truth: a delivery is claimed with a conditional UPDATE (a lease)
before it is sent, so a duplicate queue message, a requeue or a second worker finds nothing to
do while another holds it.
"""

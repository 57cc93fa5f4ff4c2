"""kombu's Redis transport, with channels that outlive their connection's teardown.

Why (issue 14): when a worker loses Redis, Celery (5.7.0, kombu 5.7.0, the newest
releases) collects and closes the broken connection, and kombu then drops the transport's
link to it (``transport.client = None``). A channel of that connection still has work
afterwards: the main process acknowledges, when its result comes back from the pool
(``acks_late``), a task it took before the loss; and the second close of a channel whose
first close was cut short by the dead socket gives back the tasks it holds. Both build a
Redis connection from ``transport.client`` and fail with ``AttributeError: 'NoneType'
object has no attribute 'hostname'``; that is not a connection error, so Celery calls it
unrecoverable and the worker exits (2 runs in 5 of bench/soak.py's Redis restart).

Here a channel keeps the connection it was opened on and reads its address from it when
the transport no longer has it: the late acknowledgement reaches the restarted Redis
(append-only, it still holds the task as unacknowledged) and the task is done once; if
Redis is still down it fails as a connection error, which Celery logs and survives, and
the task comes back after the visibility timeout. Celery's other answer,
``worker_cancel_long_running_tasks_on_connection_loss``, does not help: the close fails
before it runs, and it would kill every task in hand at each Redis blip.

Remove this (and its registration in ``civicgrid/config/celery.py``) once a kombu release
stops clearing the client under live channels; tests/faults/test_redis_restart_mid_task.py
tells.
"""

from __future__ import annotations

from kombu.transport import TRANSPORT_ALIASES, redis


class Channel(redis.Channel):
    def __init__(self, connection, *args, **kwargs):
        # Before kombu's own __init__, which may already connect.
        self._opened_on = connection.client
        super().__init__(connection, *args, **kwargs)

    def _connparams(self, asynchronous=False):
        if self.connection.client is None:  # the worker's connection was torn down under this channel
            self.connection.client = self._opened_on
        return super()._connparams(asynchronous=asynchronous)


class Transport(redis.Transport):
    Channel = Channel


def register() -> None:
    """``redis://``, ``rediss://`` and ``redis+socket://`` broker URLs get this transport.
    Must run before the first broker connection (kombu caches the class per alias)."""
    for alias in ("redis", "rediss"):
        TRANSPORT_ALIASES[alias] = f"{__name__}:Transport"

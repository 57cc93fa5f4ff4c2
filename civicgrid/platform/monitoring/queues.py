"""The broker's queue, read when scraped: tasks waiting and tasks out with a worker.

Celery's Redis transport (kombu) keeps a queue as Redis lists: the queue's own name for
priority 0, and ``<name>\\x06\\x16<step>`` for each higher priority step (3, 6, 9 by default;
``priority_steps`` and ``sep`` of the transport). A task handed to a worker and not yet
acknowledged (``acks_late``: until it finishes) waits in the hash ``unacked``. The keys are
read through kombu's own channel, so a ``global_keyprefix`` or a Sentinel broker URL is
followed as the workers follow it. Workers need no HTTP server for this: the web processes
read the broker when scraped.
"""

from __future__ import annotations

from django.conf import settings
from prometheus_client.core import GaugeMetricFamily


def watched_queues() -> list[str]:
    return [settings.CELERY_TASK_DEFAULT_QUEUE]


def list_keys(queue: str, channel) -> list[str]:
    """The Redis lists holding ``queue``: the queue itself, then one per priority step above 0."""
    return [queue] + [f"{queue}{channel.sep}{step}" for step in channel.priority_steps if step]


class QueueDepth:
    part = "queues"

    def read(self):
        from civicgrid.config.celery import app

        waiting = GaugeMetricFamily("civicgrid_celery_queue_length", "Tasks waiting in the broker's queue, every "
                                    "priority counted.", labels=["queue"])
        unacked = GaugeMetricFamily("civicgrid_celery_unacked_tasks", "Tasks handed to a worker and not yet "
                                    "acknowledged (running, or held by a worker that died: redelivered after "
                                    "CELERY_VISIBILITY_TIMEOUT).")
        queues = watched_queues()
        with app.connection_for_read() as connection:
            channel = connection.default_channel
            keys = {queue: list_keys(queue, channel) for queue in queues}
            with channel.client.pipeline() as pipe:
                for queue in queues:
                    for key in keys[queue]:
                        pipe.llen(key)
                pipe.hlen(channel.unacked_key)
                lengths = pipe.execute()
        for queue in queues:
            waiting.add_metric([queue], sum(lengths[:len(keys[queue])]))
            lengths = lengths[len(keys[queue]):]
        unacked.add_metric([], lengths[0])
        return [waiting, unacked], 0

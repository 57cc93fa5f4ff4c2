"""Writing events with the change, and relaying them after commit.

``emit`` is called inside an action's transaction. After commit it asks the
worker to relay this schema's waiting events; if that request cannot be sent
(Redis down), nothing is lost: the rows wait, and the periodic relay (beat)
or the next successful request picks them up.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from .models import OutboxEvent

logger = logging.getLogger(__name__)
RELAY_BATCH = 500


def emit(topic: str, **payload) -> OutboxEvent:
    event = OutboxEvent.objects.create(topic=topic, payload=payload)
    schema = connection.schema_name
    transaction.on_commit(lambda: request_relay(schema))
    return event


# A relay already waiting in the queue delivers every event committed before it starts, so
# while one waits, no other is sent: a burst of reports costs the broker and the worker one
# relay instead of one each. The relay clears the mark as it starts; a mark whose task was
# lost (purged, or the broker restarted empty) expires in seconds, and beat's relay runs every
# minute whatever happens.
RELAY_PENDING_KEY = "outbox:relay-pending"
RELAY_PENDING_SECONDS = 10


def request_relay(schema: str) -> None:
    from .tasks import relay_outbox

    try:
        with schema_context(schema):
            if not cache.add(RELAY_PENDING_KEY, 1, RELAY_PENDING_SECONDS):
                return  # a relay is waiting; it will find this event
            try:
                relay_outbox.apply_async(retry=False)
            except Exception:
                cache.delete(RELAY_PENDING_KEY)  # not sent: the next event asks again
                raise
    except Exception:  # the broker is down: the events wait for the periodic relay
        logger.warning("outbox: could not ask for a relay in %s; events wait", schema, exc_info=True)


def relay_starting() -> None:
    """Called by the relay task before it reads the waiting events: from now on, a newly
    committed event asks for a relay of its own."""
    try:
        cache.delete(RELAY_PENDING_KEY)
    except Exception:  # Redis down: the mark expires by itself
        logger.warning("outbox: could not clear the pending relay mark", exc_info=True)


def relay(deliver=None) -> int:
    """Deliver the waiting events of the current schema in order; return how many.

    Rows are locked with SKIP LOCKED, so two relays never deliver one event twice.
    ``deliver(event)`` defaults to the registered subscribers.
    """
    deliver = deliver or deliver_to_subscribers
    delivered = 0
    while True:
        with transaction.atomic():
            events = list(OutboxEvent.objects.select_for_update(skip_locked=True)
                          .filter(delivered_at__isnull=True).order_by("id")[:RELAY_BATCH])
            if not events:
                return delivered
            for event in events:
                try:
                    with transaction.atomic():
                        deliver(event)
                except Exception as exc:  # one bad subscriber does not block the rest
                    logger.exception("outbox: delivering %s %s failed", event.topic, event.pk)
                    event.attempts += 1
                    event.last_error = str(exc)[:300]
                    event.save(update_fields=["attempts", "last_error"])
                    if event.attempts < 5:
                        continue
                event.delivered_at = timezone.now()
                event.save(update_fields=["delivered_at"])
                delivered += 1


SUBSCRIBERS: list = []


def subscriber(fn):
    """Register ``fn(event)`` to hear every relayed event (notifications, plugin hooks, sockets)."""
    SUBSCRIBERS.append(fn)
    return fn


def deliver_to_subscribers(event: OutboxEvent) -> None:
    for fn in SUBSCRIBERS:
        fn(event)

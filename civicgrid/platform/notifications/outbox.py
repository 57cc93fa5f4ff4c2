"""Writing events with the change, and relaying them after commit.

``emit`` is called inside an action's transaction. After commit it asks the
worker to relay this schema's waiting events; if that request cannot be sent
(Redis down), nothing is lost: the rows wait, and the periodic relay (beat)
or the next successful request picks them up.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from .models import OutboxDelivery, OutboxEvent

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
    """Hand the waiting events of the current schema to every subscriber, in order; then
    retry the failed deliveries that are due. Return how many events were handed out.

    Rows are locked with SKIP LOCKED, so two relays never deliver one event twice. Each
    subscriber runs in a savepoint of its own: one that fails rolls back alone, gets an
    ``OutboxDelivery`` retried by later relays, and the others are never run again for
    that event. ``deliver(event)``, if given, stands in for the registered subscribers.
    """
    subscribers = {subscriber_name(deliver): deliver} if deliver else registered_subscribers()
    started = timezone.now()
    handed_out = 0
    while True:
        with transaction.atomic():
            events = list(OutboxEvent.objects.select_for_update(skip_locked=True)
                          .filter(delivered_at__isnull=True).order_by("id")[:RELAY_BATCH])
            if not events:
                break
            # Batch subscribers first, once for the whole batch: one that writes a row per
            # case writes them in one sorted statement, so two relays cannot deadlock on them.
            batch_failed = [(name, error) for name, fn in subscribers.items()
                            if per_batch(fn) and (error := _run(fn, events)) is not None]
            for event in events:
                failed = batch_failed + [(name, error) for name, fn in subscribers.items()
                                         if not per_batch(fn) and (error := _run(fn, event)) is not None]
                if failed:
                    _first_failures(event, failed)
                event.delivered_at = timezone.now()
                event.save(update_fields=["delivered_at"])
                handed_out += 1
    retry_due(subscribers, due_by=started)
    return handed_out


def _run(fn, delivered: OutboxEvent | list[OutboxEvent]) -> str | None:
    """Deliver an event (or a batch subscriber's events) to one subscriber in a savepoint;
    the error, or None. A batch subscriber retried for one event gets a list of one."""
    events = delivered if isinstance(delivered, list) else [delivered]
    try:
        with transaction.atomic():
            if per_batch(fn):
                fn(events)
            else:
                fn(events[0])
    except Exception as exc:  # one bad subscriber neither blocks nor undoes the others
        logger.warning("outbox: %s failed on %s %s%s", subscriber_name(fn), events[0].topic, events[0].pk,
                       f" and {len(events) - 1} more" if len(events) > 1 else "", exc_info=True)
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def _first_failures(event: OutboxEvent, failed: list[tuple[str, str]]) -> None:
    now = timezone.now()
    deliveries = [OutboxDelivery(event=event, subscriber=name, first_failed_at=now, next_attempt_at=now)
                  for name, _error in failed]
    for delivery, (_name, error) in zip(deliveries, failed, strict=True):
        _count_failure(delivery, error, now)
    OutboxDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)


def retry_due(subscribers: dict, *, due_by) -> int:
    """Try once each failed delivery due by ``due_by`` (the relay's start: one that fails
    again is due later, so no run tries a delivery twice). Return how many went through."""
    succeeded, last_id = 0, 0
    while True:
        with transaction.atomic():
            due = list(OutboxDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                       .select_related("event").filter(delivered_at__isnull=True, dead_at__isnull=True,
                                                       next_attempt_at__lte=due_by, pk__gt=last_id)
                       .order_by("pk")[:RELAY_BATCH])
            if not due:
                return succeeded
            for delivery in due:
                succeeded += attempt(delivery, subscribers)
            last_id = due[-1].pk


def attempt(delivery: OutboxDelivery, subscribers: dict) -> bool:
    """One more try of a locked delivery; record what happened."""
    fn = subscribers.get(delivery.subscriber)
    error = (_run(fn, delivery.event) if fn is not None
             else "the subscriber is no longer registered (a module removed or renamed)")
    now = timezone.now()
    if error is None:
        delivery.delivered_at = now
        logger.info("outbox: %s delivered %s %s after %d failed attempt(s)", delivery.subscriber,
                    delivery.event.topic, delivery.event_id, delivery.attempts)
    else:
        _count_failure(delivery, error, now)
    delivery.save(update_fields=["attempts", "last_error", "next_attempt_at", "delivered_at", "dead_at"])
    return error is None


def _count_failure(delivery: OutboxDelivery, error: str, now) -> None:
    delivery.attempts += 1
    delivery.last_error = error
    limits = settings.CIVICGRID_OUTBOX_MAX_ATTEMPTS, settings.CIVICGRID_OUTBOX_GIVE_UP_AFTER
    if delivery.attempts >= limits[0] or (now - delivery.first_failed_at).total_seconds() >= limits[1]:
        delivery.dead_at = now
        # An error, not a warning: someone must look (`civicgrid outbox list-failed`).
        logger.error("outbox: %s gave up on %s %s after %d attempts (%s); a dead letter now, see "
                     "`civicgrid outbox list-failed`", delivery.subscriber, delivery.event.topic,
                     delivery.event_id, delivery.attempts, error)
    else:
        delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))


RETRY_CEILING_SECONDS = 3600


def backoff_seconds(attempts: int) -> float:
    """30 s after the first failure, then twice as long each time, at most an hour."""
    return min(settings.CIVICGRID_OUTBOX_RETRY_SECONDS * 2 ** (attempts - 1), RETRY_CEILING_SECONDS)


SUBSCRIBERS: list = []


def subscriber(fn):
    """Register ``fn(event)`` to hear every relayed event (notifications, plugin hooks, sockets).
    Its name (module and function) is what a failed delivery records: keep it stable."""
    SUBSCRIBERS.append(fn)
    return fn


def batch_subscriber(fn):
    """Register ``fn(events)`` to hear each relay batch's events at once, in their order
    (a retry of one failed event hands it a list of one). For a subscriber that writes
    rows other relays write too: one statement per batch, not one per event in event order."""
    fn.per_batch = True
    return subscriber(fn)


def per_batch(fn) -> bool:
    return getattr(fn, "per_batch", False)


def subscriber_name(fn) -> str:
    module = getattr(fn, "__module__", None) or type(fn).__module__
    return f"{module}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"


def registered_subscribers() -> dict:
    return {subscriber_name(fn): fn for fn in SUBSCRIBERS}

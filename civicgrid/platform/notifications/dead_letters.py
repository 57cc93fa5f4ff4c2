"""Dead letters: outbox deliveries the relay gave up on (``outbox._count_failure``).

They are never dropped: ``civicgrid outbox list-failed`` lists them, the tenant's health
counts them, and ``civicgrid outbox retry`` tries them again, each with a fresh retry
schedule, audited. Everything here works in the current schema only, so one tenant's
letters are neither seen nor retried from another's.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from civicgrid.platform.audit.actions import record

from .models import OutboxDelivery
from .outbox import attempt, registered_subscribers


def dead_letters() -> QuerySet[OutboxDelivery]:
    return OutboxDelivery.objects.filter(dead_at__isnull=False, delivered_at__isnull=True).order_by("pk")


class NoSuchDeadLetter(LookupError):
    def __init__(self, ids: list[int]):
        super().__init__(ids)
        self.ids = ids


@dataclass
class Retried:
    delivery: OutboxDelivery
    delivered: bool


def retry_dead_letters(*, ids: list[int] | None, acting_user=None) -> list[Retried]:
    """Try the named dead letters (every one, if ``ids`` is None) once now. One that fails
    again goes back to the relay's retry schedule from its first step. An id that is not a
    dead letter here raises ``NoSuchDeadLetter`` before anything changes."""
    wanted = dead_letters()
    if ids is not None:
        found = set(wanted.filter(pk__in=ids).values_list("pk", flat=True))
        if missing := sorted(set(ids) - found):
            raise NoSuchDeadLetter(missing)
        wanted = wanted.filter(pk__in=ids)
    subscribers = registered_subscribers()
    done = []
    for pk in wanted.values_list("pk", flat=True):
        with transaction.atomic():
            delivery = (dead_letters().select_for_update(skip_locked=True, of=("self",)).select_related("event")
                        .filter(pk=pk).first())
            if delivery is None:  # retried meanwhile by someone else
                continue
            now = timezone.now()
            delivery.attempts, delivery.dead_at = 0, None
            delivery.first_failed_at = delivery.next_attempt_at = now
            delivery.save(update_fields=["attempts", "dead_at", "first_failed_at", "next_attempt_at"])
            delivered = attempt(delivery, subscribers)
            record(action="outbox.retry", actor=acting_user, target=delivery, subscriber=delivery.subscriber,
                   topic=delivery.event.topic, event=delivery.event_id, delivered=delivered)
        done.append(Retried(delivery, delivered))
    return done

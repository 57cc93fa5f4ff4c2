"""Two relays at once whose batches hold events of the same cases in opposite orders
queue those cases for indexing without a deadlock.

Each relay queues its whole batch's cases in one sorted insert (the search subscriber
is a batch subscriber), so the second waits for the first instead of each holding a
case the other needs. When the subscriber inserted per event, in event order, this
very choreography deadlocked (the soak saw it 183 times in 30 minutes): one relay's
insert failed and its delivery had to be retried."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from civicgrid.platform.notifications import outbox
from civicgrid.platform.notifications.models import OutboxDelivery, OutboxEvent
from civicgrid.search.models import IndexQueue
from civicgrid.search.subscribers import case_events_to_index

pytestmark = pytest.mark.slow
CASE_A, CASE_B = 9_100_000_001, 9_100_000_002  # ids no case has: the queue keeps no foreign key
TOPIC = "case.parallel-relay-test"


def slowly(event) -> None:
    """A per-event subscriber that takes its time, so the two relays' batches overlap."""
    if event.topic == TOPIC:
        time.sleep(0.2)


def relay_in_thread(tenant, errors: list, start: threading.Barrier) -> None:
    try:
        with tenant_context(tenant):
            start.wait(timeout=10)
            outbox.relay()
    except Exception as exc:  # pragma: no cover - shown by the assertion below
        errors.append(exc)
    finally:
        connection.close()


def test_two_relays_queue_the_same_cases_in_opposite_orders_without_a_deadlock(committed, monkeypatch):
    tenant = committed.shangcheng
    with tenant_context(tenant):
        outbox.relay()  # what other tests left waiting goes to the real subscribers first
        events = [outbox.emit(TOPIC, case_id=case_id) for case_id in (CASE_B, CASE_A, CASE_A, CASE_B)]
    monkeypatch.setattr(outbox, "SUBSCRIBERS", [case_events_to_index, slowly])
    monkeypatch.setattr(outbox, "RELAY_BATCH", 2)  # first relay: B then A; second: A then B
    errors: list = []
    start = threading.Barrier(2)
    threads = [threading.Thread(target=relay_in_thread, args=(tenant, errors, start)) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        with tenant_context(tenant):
            ids = [event.pk for event in events]
            failed = list(OutboxDelivery.objects.filter(event_id__in=ids).values_list("subscriber", "last_error"))
            assert failed == [], failed  # a deadlock fails one relay's insert, and its delivery
            assert not OutboxEvent.objects.filter(pk__in=ids, delivered_at__isnull=True).exists()
            assert set(IndexQueue.objects.filter(case_id__in=[CASE_A, CASE_B]).values_list("case_id", flat=True)) \
                == {CASE_A, CASE_B}
    finally:
        with tenant_context(tenant):
            OutboxDelivery.objects.filter(event__topic=TOPIC).delete()
            OutboxEvent.objects.filter(topic=TOPIC).delete()
            IndexQueue.objects.filter(case_id__in=[CASE_A, CASE_B]).delete()
        connection.set_schema_to_public()

"""While a relay waits in the queue, committed events ask for no other: one relay delivers
them all. Counted on the broker itself (a queue of this test's own in Redis), and the
events delivered once by a real worker."""

from __future__ import annotations

import time
import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django_tenants.utils import tenant_context

from civicgrid.config.celery import app
from civicgrid.platform.notifications import outbox
from civicgrid.platform.notifications.models import OutboxDelivery, OutboxEvent


@pytest.fixture
def private_queue():
    """Tasks sent meanwhile go to a queue no worker reads: the test counts them there."""
    name = f"coalesce-{uuid.uuid4().hex[:8]}"
    old = app.conf.task_default_queue
    app.conf.task_default_queue = name
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        yield lambda: broker.llen(name)
    finally:
        app.conf.task_default_queue = old
        broker.delete(name)


def test_one_waiting_relay_serves_a_burst_of_events(world, private_queue):
    with tenant_context(world.shangcheng):
        cache.delete(outbox.RELAY_PENDING_KEY)
        for _ in range(5):
            outbox.request_relay("shangcheng")
        assert private_queue() == 1
        outbox.relay_starting()  # the relay task begins: the next event asks again
        outbox.request_relay("shangcheng")
        assert private_queue() == 2
        cache.delete(outbox.RELAY_PENDING_KEY)


def test_an_unsent_request_leaves_no_mark(world, private_queue, settings):
    from tests.brokers import broker

    with tenant_context(world.shangcheng):
        cache.delete(outbox.RELAY_PENDING_KEY)
        with broker(f"redis://127.0.0.1:{_closed_port()}/0"):  # the broker (and cache) down
            outbox.request_relay("shangcheng")  # logged, nothing raised
        assert cache.get(outbox.RELAY_PENDING_KEY) is None
        outbox.request_relay("shangcheng")
        assert private_queue() == 1
        cache.delete(outbox.RELAY_PENDING_KEY)


def _closed_port() -> int:
    from tests.conftest import free_port

    return free_port()


@pytest.mark.slow
def test_a_burst_of_reports_is_delivered_once_each(committed, celery_worker):
    from civicgrid.platform.cases import actions
    from civicgrid.platform.cases.models import Case, Source
    from civicgrid.platform.notifications.models import Notification
    from tests.platform.cases.test_workflow import IN_G01, staff

    with tenant_context(committed.shangcheng):
        cases = [actions.report_case(staff=staff("shangcheng_gridworker"), category="DSP-NEIGHBOUR",
                                     title=f"连报 {i}", source=Source.GRID_WORKER, **IN_G01) for i in range(8)]
        ids = [case.pk for case in cases]
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                waiting = OutboxEvent.objects.filter(payload__case_id__in=ids, delivered_at__isnull=True).count()
                if not waiting:
                    break
                time.sleep(0.3)
            events = OutboxEvent.objects.filter(payload__case_id__in=ids)
            assert events.count() == 8 and not events.filter(delivered_at__isnull=True).exists()
            assert not OutboxDelivery.objects.filter(event__in=events).exists()  # none failed, none twice
        finally:
            Notification.objects.filter(case_id__in=ids).delete()
            OutboxEvent.objects.filter(payload__case_id__in=ids).delete()
            Case.objects.filter(pk__in=ids).delete()

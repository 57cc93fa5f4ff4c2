"""A subscriber that keeps failing an outbox event: retried with backoff across relay
runs (never marked delivered), the event's other subscribers run once, and past the
limits a dead letter an operator lists and retries (`civicgrid outbox`), tenant by tenant.

The first test relays with a real Celery worker on a Redis of its own; the others run
the relay in the test process against the real schemas."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.config.celery import app
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.notifications.models import OutboxDelivery, OutboxEvent
from civicgrid.platform.notifications.outbox import emit, relay
from civicgrid.platform.notifications.tasks import relay_all_outboxes
from civicgrid.province.tasks import refresh_tenant_health
from civicgrid.tenants.models import TenantHealth
from tests.brokers import broker
from tests.conftest import child_env, free_port, running
from tests.platform.cases.test_outbox_resilience import private_redis

from . import flaky

FLAKY = "tests.platform.notifications.flaky.flaky"


@pytest.fixture
def flaky_log(tmp_path, monkeypatch):
    path = tmp_path / "flaky.log"
    monkeypatch.setenv("FLAKY_LOG", str(path))
    return path


def flaky_event(failures: int) -> OutboxEvent:
    return emit(flaky.TOPIC, failures=failures)


def eventually(check, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not: {what}")
        time.sleep(0.2)


def test_a_subscriber_failing_seven_times_then_succeeding_delivers_once_through_a_real_worker(committed, flaky_log):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    command = [sys.executable, "-m", "celery", "-A", "civicgrid.config.celery", "worker", "--pool=solo",
               "--loglevel=INFO", "--hostname", f"dead-letters-{port}@%h", "-Q", app.conf.task_default_queue,
               "--include", "tests.platform.notifications.flaky"]
    # No waiting between tries (30 s, 1 min, … in production): each relay run is due one.
    env = child_env(REDIS_URL=url, CIVICGRID_OUTBOX_RETRY_SECONDS="0")
    with private_redis(port), broker(url), running(command, env=env):
        with tenant_context(committed.shangcheng):
            with transaction.atomic():
                event = flaky_event(failures=7)  # its commit asks the worker for a relay
            eventually(lambda: flaky.calls("flaky", event.pk) == 1, "the worker's first relay")
            assert flaky.calls("healthy", event.pk) == 1
            event.refresh_from_db()
            assert event.delivered_at is not None  # handed out; the failure goes on by itself
            delivery = OutboxDelivery.objects.get(event=event)
            assert delivery.subscriber == FLAKY and delivery.delivered_at is None and delivery.attempts == 1
            for run in range(2, 9):  # what beat sends every minute
                relay_all_outboxes.delay()
                eventually(lambda run=run: flaky.calls("flaky", event.pk) == run, f"relay run {run}")
            eventually(lambda: OutboxDelivery.objects.get(pk=delivery.pk).delivered_at is not None, "delivered")
            relay_all_outboxes.delay()  # once more: nothing left to do for this event
            relay_all_outboxes.delay()
            time.sleep(3)
            delivery.refresh_from_db()
            assert (flaky.calls("flaky", event.pk, "failed"), flaky.calls("flaky", event.pk, "delivered")) == (7, 1)
            assert flaky.calls("healthy", event.pk) == 1  # never run again
            assert delivery.attempts == 7 and delivery.dead_at is None
            OutboxEvent.objects.filter(pk=event.pk).delete()


def test_the_relay_waits_out_the_backoff_between_tries(world, flaky_log, settings):
    settings.CIVICGRID_OUTBOX_RETRY_SECONDS = 30
    with tenant_context(world.shangcheng):
        event = flaky_event(failures=1)
        relay()
        delivery = OutboxDelivery.objects.get(event=event)
        assert 29 <= (delivery.next_attempt_at - timezone.now()).total_seconds() <= 30
        relay()  # not due yet
        assert flaky.calls("flaky", event.pk) == 1
        OutboxDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        relay()
        delivery.refresh_from_db()
        assert delivery.delivered_at is not None and flaky.calls("flaky", event.pk, "delivered") == 1
        assert flaky.calls("healthy", event.pk) == 1


def dead_letter(tenant, settings) -> OutboxDelivery:
    """An event whose flaky delivery the relay gave up on (two attempts allowed here)."""
    settings.CIVICGRID_OUTBOX_MAX_ATTEMPTS = 2
    settings.CIVICGRID_OUTBOX_RETRY_SECONDS = 0
    with tenant_context(tenant):
        event = flaky_event(failures=2)
        relay()
        relay()
        letter = OutboxDelivery.objects.get(event=event)
        assert letter.is_dead and letter.attempts == 2
        return letter


def outbox(*args) -> str:
    out = StringIO()
    call_command("outbox", *args, stdout=out)
    return out.getvalue()


def test_a_dead_letter_is_listed_counted_and_retried_by_the_command(world, flaky_log, settings):
    letter = dead_letter(world.shangcheng, settings)
    with tenant_context(world.shangcheng):
        relay()  # the relay leaves a dead letter alone
    assert flaky.calls("flaky", letter.event_id) == 2
    listed = outbox("list-failed")
    assert f"shangcheng  {letter.pk}  test.flaky" in listed and FLAKY in listed and "RuntimeError" in listed
    with tenant_context(world.shangcheng):
        refresh_tenant_health.run()  # the task's body, in this process
    assert TenantHealth.objects.get(tenant=world.shangcheng).outbox_dead_letters == 1

    out = outbox("retry", "--tenant", "shangcheng", str(letter.pk))
    assert f"shangcheng  {letter.pk}  delivered" in out
    with tenant_context(world.shangcheng):
        letter.refresh_from_db()
        assert letter.delivered_at is not None and not letter.is_dead
        audit = AuditEntry.objects.filter(action="outbox.retry").latest("id")
        assert audit.target_id == str(letter.pk) and audit.data["delivered"] is True
        refresh_tenant_health.run()  # the task's body, in this process
    assert flaky.calls("flaky", letter.event_id, "delivered") == 1 and flaky.calls("healthy", letter.event_id) == 1
    assert TenantHealth.objects.get(tenant=world.shangcheng).outbox_dead_letters == 0
    assert "0 dead letter(s)" in outbox("list-failed", "--tenant", "shangcheng")


def test_a_retry_that_fails_again_goes_back_to_the_schedule(world, flaky_log, settings):
    letter = dead_letter(world.shangcheng, settings)
    with tenant_context(world.shangcheng):
        OutboxEvent.objects.filter(pk=letter.event_id).update(payload={"failures": 3})
    with pytest.raises(CommandError, match="1 delivery"):
        outbox("retry", "--tenant", "shangcheng", "--all")
    with tenant_context(world.shangcheng):
        letter.refresh_from_db()
        assert not letter.is_dead and letter.attempts == 1 and letter.delivered_at is None


def test_another_tenant_neither_sees_nor_retries_a_dead_letter(world, flaky_log, settings):
    letter = dead_letter(world.shangcheng, settings)
    with tenant_context(world.yuhang):
        assert not OutboxDelivery.objects.filter(pk=letter.pk).exists()  # the number means nothing there
    assert "0 dead letter(s)" in outbox("list-failed", "--tenant", "yuhang")
    with pytest.raises(CommandError, match=f"yuhang: no dead letter {letter.pk}; nothing retried"):
        outbox("retry", "--tenant", "yuhang", str(letter.pk))
    with pytest.raises(CommandError, match="give --tenant"):
        outbox("retry", str(letter.pk))
    assert outbox("retry", "--tenant", "yuhang", "--all") == ""
    with tenant_context(world.shangcheng):
        letter.refresh_from_db()
        assert letter.is_dead and letter.attempts == 2  # untouched
        assert not AuditEntry.objects.filter(action="outbox.retry", target_id=str(letter.pk)).exists()
    assert flaky.calls("flaky", letter.event_id) == 2


def test_a_delivery_failing_past_the_time_limit_becomes_a_dead_letter(world, flaky_log, settings):
    settings.CIVICGRID_OUTBOX_RETRY_SECONDS = 0
    with tenant_context(world.shangcheng):
        event = flaky_event(failures=5)
        relay()
        OutboxDelivery.objects.filter(event=event).update(first_failed_at=timezone.now() - timedelta(days=2))
        relay()
        delivery = OutboxDelivery.objects.get(event=event)
        assert delivery.is_dead and delivery.attempts == 2

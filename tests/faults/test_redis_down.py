"""Redis stopped: reports keep being accepted over HTTP, and once Redis is back every
event, plugin hook, index update and channel message goes out exactly once.

Redis here is a redis-server of the test's own on a free port (cheap to start, and
stopping it touches nobody else): broker, cache and channel layer of a gunicorn web
server and of a Celery worker. The test stops it for real, so whatever it held (queued
tasks) is lost with it, as in a restart without persistence.
"""

from __future__ import annotations

import time

import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.notifications.tasks import relay_all_outboxes
from civicgrid.plugins.tasks import deliver_all_unread
from civicgrid.search.tasks import index_all_queued

from .conftest import discard_cases, eventually, report_over_http, unique_title
from .counting import side_effects, worker_idle

pytestmark = [pytest.mark.faults, pytest.mark.slow]
PREFIX = "故障演练Redis"


def test_reports_made_while_redis_is_down_are_kept_and_go_out_once_when_it_is_back(
        stack, sample_plugin_on, community_operator):
    world = sample_plugin_on
    web = stack.web()
    try:
        stack.redis.stop()
        titles = [unique_title(PREFIX) for _ in range(3)]
        started = time.monotonic()
        responses = [report_over_http(web.port, title) for title in titles]
        took = time.monotonic() - started
        assert [r.status_code for r in responses] == [201] * 3, [r.text[:300] for r in responses]
        assert took < 15, f"three reports took {took:.1f}s with Redis down"  # refused at once, not hung

        with tenant_context(world.shangcheng):
            waiting = side_effects(PREFIX)
        assert len(waiting.cases) == 3 and waiting.reports_heard == {} and waiting.indexed == set()
        assert waiting.events_waiting == 3 and waiting.events_delivered == 0
        assert waiting.notifications, "the community operator was told of each report (stored, not sent yet)"

        stack.redis.start()
        stack.worker()
        # Beat's jobs, each sent twice: whatever runs a second time must find nothing to do.
        for _round in range(2):
            stack.beat(relay_all_outboxes, index_all_queued, deliver_all_unread)
            worker_idle(stack)

        with tenant_context(world.shangcheng):
            done = eventually(lambda: _all_out(side_effects(PREFIX), stack), stack=stack)
        numbers = {number for number, _pk in done.cases}
        assert done.events_delivered == 3 and done.events_waiting == 0
        assert done.reports_heard == {number: 1 for number in numbers}  # each plugin hook once
        assert done.indexed == {pk for _number, pk in done.cases} and done.index_queue == 0
        channelled = [pk for schema, pk in stack.channelled() if schema == "shangcheng"]
        assert sorted(channelled) == sorted(done.notifications), "each notification to the channel once"
    finally:
        discard_cases(world, PREFIX)


def test_a_hung_redis_holds_a_report_seconds_not_for_ever(stack, sample_plugin_on):
    """Redis frozen (SIGSTOP) rather than stopped: connections are accepted and never
    answered. Without socket timeouts the send after each report's commit waited for ever
    (until gunicorn killed the worker, the client never hearing that its case was made)."""
    world = sample_plugin_on
    web = stack.web()
    try:
        stack.redis.pause()
        started = time.monotonic()
        responses = [report_over_http(web.port, unique_title(PREFIX), timeout=60) for _ in range(2)]
        took = time.monotonic() - started
        assert [r.status_code for r in responses] == [201, 201], [r.text[:300] for r in responses]
        assert took < 45, f"two reports took {took:.1f}s with Redis hung"  # gunicorn would cut at 60 s each
        stack.redis.resume()
        stack.worker()
        stack.beat(relay_all_outboxes)
        with tenant_context(world.shangcheng):
            done = eventually(lambda: (found := side_effects(PREFIX)).events_waiting == 0 and found, stack=stack)
        assert done.events_delivered == 2 and done.reports_heard == {number: 1 for number, _pk in done.cases}
    finally:
        if stack.redis.running:
            stack.redis.resume()
        discard_cases(world, PREFIX)


def _all_out(found, stack):
    """Every event relayed, every case indexed, every notification handed to the channel."""
    channelled = {pk for _schema, pk in stack.channelled()}
    if found.events_waiting or found.index_queue or not set(found.notifications) <= channelled:
        return None
    return found


def test_an_import_queued_while_redis_is_down_runs_once_when_it_is_back(stack, committed, tmp_path):
    """The console queues a registry import while Redis is down: the page answers (the
    batch is kept, queued) instead of failing after its commit with a batch that nothing
    would ever send; beat's ``resend_queued_imports`` sends it once Redis is back."""
    from civicgrid.platform.registry import protection
    from civicgrid.platform.registry.imports import actions
    from civicgrid.platform.registry.imports.models import ImportBatch
    from civicgrid.platform.registry.imports.tasks import resend_queued_imports
    from civicgrid.platform.registry.models import Person
    from tests.platform.registry.imports.helpers import MAPPING, csv_bytes, people, staff

    rows = people(20, seed=9015)
    indexes = [protection.blind_index(row[1], "id") for row in rows]
    path = tmp_path / "persons.csv"
    path.write_bytes(csv_bytes(rows))
    batch = None
    try:
        stack.redis.stop()
        with stack.sending(), tenant_context(committed.shangcheng):
            admin = staff("shangcheng_admin")
            batch = actions.open_batch(staff=admin, department_code="D-PSB", file_name=path.name, path=str(path))
            actions.queue_import(staff=admin, batch=batch, column_mapping=MAPPING)  # no error after the commit
            batch.refresh_from_db()
            assert batch.status == ImportBatch.Status.QUEUED

        stack.redis.start()
        stack.worker()
        stack.beat(resend_queued_imports)
        with tenant_context(committed.shangcheng):
            def finished():
                batch.refresh_from_db()
                return batch.is_finished
            eventually(finished, stack=stack)
            assert batch.status == ImportBatch.Status.APPLIED and batch.new_rows == 20, batch.error
        stack.beat(resend_queued_imports)  # again: nothing left queued, nothing twice
        worker_idle(stack)
        with tenant_context(committed.shangcheng):
            assert Person.objects.filter(id_number_index__in=indexes).count() == 20
    finally:
        with tenant_context(committed.shangcheng):
            Person.objects.filter(id_number_index__in=indexes).delete()
            if batch is not None:
                actions.discard_batch(staff=None, batch=batch)


def test_onboarding_asked_for_while_redis_is_down_runs_once_when_it_is_back(stack, committed):
    """The province page asks for a county while Redis is down: the job is kept, queued
    (the page used to fail after the commit, leaving a job nothing would send), and beat's
    ``resend_queued_onboarding`` sends it once Redis is back; the county is made once."""
    from civicgrid.province.onboarding import request_onboarding
    from civicgrid.province.tasks import resend_queued_onboarding
    from civicgrid.tenants.models import OnboardingJob, Tenant
    from tests.world import discard_tenant

    try:
        stack.redis.stop()
        with stack.sending():
            job = request_onboarding(params={
                "name": "故障区", "division_code": "330199", "level": "county", "parent_code": "330100",
                "domain": "fault.localhost", "admin_password": "a-long-password"}, acting_user=None)
        job.refresh_from_db()
        assert job.status == OnboardingJob.Status.QUEUED

        stack.redis.start()
        stack.worker()
        stack.beat(resend_queued_onboarding)

        def finished():
            job.refresh_from_db()
            return job.is_finished
        eventually(finished, stack=stack)
        assert job.status == OnboardingJob.Status.SUCCEEDED, job.error
        stack.beat(resend_queued_onboarding)  # again: nothing left queued
        worker_idle(stack)
        assert Tenant.objects.filter(division_code="330199").count() == 1
    finally:
        discard_tenant("330199")

"""The Celery worker killed (SIGKILL) in the middle of a task: a new worker finishes the
work and nothing is done twice. Two tasks: the outbox relay and a registry import.

Each worker is caught mid-task deterministically: the test holds a lock the task needs
(the sample plugin's table, written by the relay's plugin hook; the tenant's import
lock, taken before an import applies), waits until the worker blocks on it, and kills
it there. The kill rolls the task's transaction back with its connection. The task was
not acknowledged (``acks_late``), so Redis hands it to the next worker once the
visibility timeout has passed (3 s here, ``CELERY_VISIBILITY_TIMEOUT``; 1 h by default).
"""

from __future__ import annotations

import re
import time

import psycopg
import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.notifications.tasks import relay_all_outboxes
from tests.conftest import database_url

from .conftest import VISIBILITY_TIMEOUT, discard_cases, eventually
from .counting import side_effects, worker_idle
from .test_parallel_runs import TableLock, reports, waiting_on_a_lock

pytestmark = [pytest.mark.faults, pytest.mark.slow]
PREFIX = "故障演练并行"  # the reports() helper's titles
RELAY_TASK = "civicgrid.platform.notifications.tasks.relay_outbox"


def test_a_worker_killed_mid_relay_leaves_the_work_to_the_next_one_and_nothing_twice(stack, sample_plugin_on):
    from sample_plugin.models import HeardEvent

    world = stack.world = sample_plugin_on
    table = HeardEvent._meta.db_table
    try:
        made = reports(2, stack)  # each asks for a relay: two relay tasks wait in the queue
        lock = TableLock(table)
        try:
            doomed = stack.worker(name="doomed")
            eventually(lambda: waiting_on_a_lock(table), stack=stack)
            doomed.kill()
            killed_task = re.search(rf"Task {re.escape(RELAY_TASK)}\[([0-9a-f-]+)\] received", doomed.log()).group(1)
            with tenant_context(world.shangcheng):
                half = side_effects(PREFIX)
                assert half.events_delivered == 0 and half.reports_heard == {}, "the killed relay kept something"
        finally:
            lock.release()

        # A worker gives back a dead one's tasks when it starts (and every ~100 s after), those
        # out longer than the visibility timeout: the heir starts once that has passed.
        time.sleep(VISIBILITY_TIMEOUT + 1)
        heir = stack.worker(name="heir")
        with tenant_context(world.shangcheng):
            eventually(lambda: side_effects(PREFIX).events_waiting == 0, stack=stack)
        # The killed task comes back to the new worker (not acknowledged), and finds nothing to do.
        eventually(lambda: f"{RELAY_TASK}[{killed_task}] succeeded" in heir.log(), stack=stack)
        stack.beat(relay_all_outboxes)  # and beat's relay a minute later: nothing either
        worker_idle(stack)

        with tenant_context(world.shangcheng):
            done = side_effects(PREFIX)
        assert done.events_delivered == len(made) and done.events_waiting == 0
        assert done.reports_heard == {case.number: 1 for case in made}
    finally:
        discard_cases(world, PREFIX)


def test_a_worker_killed_mid_import_leaves_the_batch_to_the_next_one_and_each_person_once(
        stack, committed, tmp_path):
    """A registry import killed after staging, while it waits to apply (the test holds the
    tenant's import lock): the batch is left running with nothing applied; the task comes
    back to the next worker, which stages again from scratch and applies every person once."""
    from civicgrid.platform.registry import protection
    from civicgrid.platform.registry.imports import actions
    from civicgrid.platform.registry.imports.models import ImportBatch, ImportRow
    from civicgrid.platform.registry.models import Person
    from tests.platform.registry.imports.helpers import MAPPING, csv_bytes, people, staff

    rows = people(25, seed=9014)
    indexes = [protection.blind_index(row[1], "id") for row in rows]
    path = tmp_path / "persons.csv"
    path.write_bytes(csv_bytes(rows))
    batch = None
    lock = psycopg.connect(database_url(), autocommit=True)
    try:
        with tenant_context(committed.shangcheng):
            admin = staff("shangcheng_admin")
            batch = actions.open_batch(staff=admin, department_code="D-PSB", file_name=path.name, path=str(path))
        lock.execute("SELECT pg_advisory_lock(hashtext('shangcheng:registry-import'))")  # imports wait to apply
        with stack.sending(), tenant_context(committed.shangcheng):
            actions.queue_import(staff=admin, batch=batch, column_mapping=MAPPING)
        doomed = stack.worker(name="doomed")
        eventually(lambda: _waiting_on_an_advisory_lock(), stack=stack)
        doomed.kill()
        with tenant_context(committed.shangcheng):
            batch.refresh_from_db()
            assert batch.status == ImportBatch.Status.RUNNING
            assert not Person.objects.filter(id_number_index__in=indexes).exists()
        lock.execute("SELECT pg_advisory_unlock(hashtext('shangcheng:registry-import'))")

        time.sleep(VISIBILITY_TIMEOUT + 1)  # as above: the heir gives the killed task back at its start
        stack.worker(name="heir")
        with tenant_context(committed.shangcheng):
            def applied():
                batch.refresh_from_db()
                return batch.is_finished
            eventually(applied, stack=stack)
            assert batch.status == ImportBatch.Status.APPLIED and batch.new_rows == 25, batch.error
            assert Person.objects.filter(id_number_index__in=indexes).count() == 25
    finally:
        lock.close()
        with tenant_context(committed.shangcheng):
            Person.objects.filter(id_number_index__in=indexes).delete()
            if batch is not None:
                actions.discard_batch(staff=None, batch=batch)
                assert not ImportRow.objects.filter(batch_id=batch.pk).exists()


def _waiting_on_an_advisory_lock() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'advisory'")
        return cursor.fetchone()[0] > 0

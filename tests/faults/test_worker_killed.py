"""The Celery worker killed (SIGKILL) in the middle of relaying the outbox: a new worker
finishes the work and nothing is done twice.

The worker is caught mid-task deterministically: the test locks the sample plugin's
table against writes, so the relay stops inside its transaction at the plugin hook of
the first event (events claimed, nothing committed), and is killed there. The kill
rolls its transaction back with its connection. The task itself was not acknowledged
(``acks_late``), so Redis hands it to the next worker once the visibility timeout has
passed (3 s here, ``CELERY_VISIBILITY_TIMEOUT``); the other queued relay finishes the
events first, and the redelivered task then finds nothing left to do.
"""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.notifications.tasks import relay_all_outboxes

from .conftest import discard_cases, eventually
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

"""Redis restarted while the worker holds a task it has not acknowledged: the worker stays
up, and the task's work is done once (issue 14: in the soak, the worker exited after a
Redis restart with ``AttributeError: 'NoneType' object has no attribute 'hostname'``).

The worker runs as in production: prefork (a child runs the task, the main process
acknowledges it when the result comes back, ``acks_late``), Redis append-only (the
unacknowledged task is still in Redis after the restart) and the visibility timeout long
(1 h in production): the task can only be done once if the worker's late acknowledgement
reaches the restarted Redis. The relay is caught mid-task deterministically: the test
holds the sample plugin's table, which the relay's plugin hook writes, stops Redis while
the relay waits on it, and lets it go on while Redis is down.
"""

from __future__ import annotations

import re
import time

import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.notifications.tasks import relay_all_outboxes

from .conftest import discard_cases, eventually
from .counting import side_effects, worker_idle
from .test_parallel_runs import TableLock, reports, waiting_on_a_lock

pytestmark = [pytest.mark.faults, pytest.mark.slow]
PREFIX = "故障演练并行"  # the reports() helper's titles
REDIS_DOWN = 4  # seconds; the soak's 30-60 s behave the same, the worker retrying meanwhile
CONNECTION_LOST = "Connection to broker lost"
RELAY_TASK = "civicgrid.platform.notifications.tasks.relay_outbox"


def test_a_worker_holding_a_task_through_a_redis_restart_stays_up_and_the_work_is_done_once(
        append_only_stack, sample_plugin_on):
    from sample_plugin.models import HeardEvent

    stack = append_only_stack
    world = stack.world = sample_plugin_on
    table = HeardEvent._meta.db_table
    try:
        lock = TableLock(table)
        try:
            before = reports(1, stack)  # its relay task waits in the queue
            worker = stack.worker(prefork=2, CELERY_VISIBILITY_TIMEOUT="3600")
            eventually(lambda: waiting_on_a_lock(table), stack=stack)  # the relay is in hand, not acknowledged

            stack.redis.stop()
            worker.wait_for_log(CONNECTION_LOST, timeout=20)
            during = reports(1, stack)  # its relay cannot be sent: the event waits in the outbox
        finally:
            lock.release()  # the held relay goes on while Redis is down (unless the worker stopped it)
        time.sleep(REDIS_DOWN)
        stack.redis.start()

        stack.beat(relay_all_outboxes)  # what beat sends every minute, once Redis is back
        with tenant_context(world.shangcheng):
            done = eventually(lambda: (found := side_effects(PREFIX)).events_waiting == 0 and found, stack=stack)
        # Nothing queued or unacknowledged is left: the held relay was acknowledged on the
        # restarted Redis (not left to come back an hour later).
        worker_idle(stack)
        log = worker.log()
        assert worker.running, f"the worker exited after the Redis restart:\n{log[-4000:]}"
        assert "Unrecoverable error" not in log and "Couldn't ack" not in log, log[-4000:]
        held = re.search(rf"Task {re.escape(RELAY_TASK)}\[([0-9a-f-]+)\] received", log).group(1)
        assert log.count(f"{RELAY_TASK}[{held}] succeeded") == 1, "the held relay ran once"

        made = before + during
        assert done.events_delivered == len(made) and len(done.cases) == len(made)
        assert done.reports_heard == {case.number: 1 for case in made}  # each plugin hook once
    finally:
        discard_cases(world, PREFIX)

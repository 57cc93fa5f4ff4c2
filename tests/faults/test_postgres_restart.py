"""PostgreSQL restarted while the web server is up: requests during the restart get a
clear 503 (never a half-written case), and afterwards the same server process serves
again without being restarted (``conn_health_checks`` drops the dead connections), and
a Celery worker that lost its connection too relays what waited, once.

The restart is a TCP relay between the web server and the machine's PostgreSQL that the
test cuts (every connection dropped, new ones refused) and restores on the same port
(``processes.TcpRelay``). From the server's side that is exactly a restart; a real
restart of the machine's PostgreSQL would break every other test run on the machine,
and a cluster of our own would need the migrated test database copied into it (tens of
seconds) for no difference the web server could see.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests
from django.conf import settings
from django.db import connection
from django.utils import translation
from django_tenants.utils import tenant_context

from civicgrid.platform.cases.models import Case, CaseEvent
from civicgrid.platform.notifications.models import OutboxEvent
from civicgrid.platform.notifications.tasks import relay_all_outboxes

from .conftest import discard_cases, eventually, report_over_http, unique_title
from .processes import TcpRelay

pytestmark = [pytest.mark.faults, pytest.mark.slow]
PREFIX = "故障演练PG"


def test_a_database_restart_answers_503_meanwhile_and_the_server_serves_again_after(stack, committed):
    world = committed
    s = connection.settings_dict
    relay = TcpRelay(int(s["PORT"] or 5432), s["HOST"] or "127.0.0.1").start()
    through_relay = f"postgresql://{s['USER']}@127.0.0.1:{relay.port}/{s['NAME']}"
    web = stack.web(DATABASE_URL=through_relay)
    stack.worker(DATABASE_URL=through_relay)  # relays each report's events as they come
    sent: list[tuple[str, int, dict | str]] = []
    stop = threading.Event()

    def keep_reporting():
        while not stop.is_set():
            title = unique_title(PREFIX)
            try:
                response = report_over_http(web.port, title, timeout=30)
                body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") \
                    else response.text
                sent.append((title, response.status_code, body))
            except requests.RequestException as exc:  # the server itself must stay up: this fails the test
                sent.append((title, -1, repr(exc)))
            time.sleep(0.05)

    try:
        assert report_over_http(web.port, unique_title(PREFIX)).status_code == 201
        reporter = threading.Thread(target=keep_reporting)
        reporter.start()
        time.sleep(1.5)
        relay.cut()
        cut_at = len(sent)
        time.sleep(3)
        relay.restore()
        restored_at = len(sent)
        time.sleep(3)
        stop.set()
        reporter.join(timeout=60)
        pid = web.popen.pid
        assert web.running and web.popen.pid == pid  # never restarted

        statuses = [status for _title, status, _body in sent]
        assert set(statuses) <= {201, 503}, [(status, body) for _t, status, body in sent if status not in (201, 503)]
        assert 503 in statuses[cut_at:restored_at + 1], "no request met the restart"
        assert statuses[-1] == 201 and statuses[-3:] == [201] * 3, "the server did not serve again after the restart"
        with translation.override(settings.LANGUAGE_CODE):
            from civicgrid.platform.security.outage import reason

            expected = reason(_operational_error())
        for _title, status, body in sent:
            if status == 503:
                assert body == {"detail": expected}, body

        # The worker's connection died with the restart too: its next relay reconnects (Celery
        # closes unusable connections before each task) and delivers what waited, once.
        stack.beat(relay_all_outboxes)
        with tenant_context(world.shangcheng):
            eventually(lambda: not OutboxEvent.objects.filter(
                topic="case.report", delivered_at__isnull=True,
                payload__case_id__in=list(Case.objects.filter(title__startswith=PREFIX).values_list("pk", flat=True))
            ).exists(), stack=stack)

        with tenant_context(world.shangcheng):
            refused = [title for title, status, _body in sent if status == 503]
            assert not Case.objects.filter(title__in=refused).exists(), "a refused report left a case behind"
            accepted = [title for title, status, _body in sent if status == 201]
            kept = Case.objects.filter(title__startswith=PREFIX)
            assert kept.count() == len(accepted) + 1
            for case in kept:  # never half-written: each with its timeline entry and its event
                assert CaseEvent.objects.filter(case=case, action="report").count() == 1
                assert OutboxEvent.objects.filter(payload__case_id=case.pk, topic="case.report").count() == 1
    finally:
        stop.set()
        relay.stop()
        discard_cases(world, PREFIX)


def _operational_error():
    from django.db import OperationalError

    return OperationalError("connection refused")

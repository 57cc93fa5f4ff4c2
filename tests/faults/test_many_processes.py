"""Nothing assumes one process: two web servers, two ASGI servers and two workers on one
database, one Redis and one object store, as a province runs them behind a load balancer.

The first test follows a user and a report across the processes: signed in on one web
server, known on the other; a photo sent to one is thumbnailed by a worker and served by
the other, from the object store only; a report on one web server reaches the handler's
sockets on both ASGI servers; a grid boundary changed elsewhere moves the next report on
a web server that had its index built; a tenant suspended elsewhere is refused by both.

The second sends every beat job twice at once, as two beats would (a second beat started
by mistake, or a failover that overlapped), to the two workers, and shows each job's work
done once.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context
from minio import Minio

from civicgrid.config.celery import app
from tests.platform.notifications.sockets import Sockets
from tests.world import PASSWORD

from .conftest import IN_G01, SHANGCHENG, a_photo, discard_cases, eventually, report_over_http, unique_title
from .counting import side_effects, worker_idle
from .processes import moto_s3_server
from .test_parallel_runs import PREFIX as PREFIX_OF_REPORTS
from .test_parallel_runs import reports

pytestmark = [pytest.mark.faults, pytest.mark.slow]
PREFIX = "多进程演练"
BUCKET = "civicgrid-many"


def object_store(stack) -> tuple[dict, Minio]:
    moto = moto_s3_server(log_dir=stack.log_dir).start()
    stack.processes.append(moto)
    endpoint = f"127.0.0.1:{moto.port}"
    client = Minio(endpoint, access_key="test", secret_key="testtest", secure=False)
    client.make_bucket(BUCKET)
    return {"S3_ENDPOINT": f"http://{endpoint}", "S3_ACCESS_KEY": "test", "S3_SECRET_KEY": "testtest",
            "S3_BUCKET": BUCKET}, client


def url(process, path: str) -> str:
    return f"http://127.0.0.1:{process.port}{path}"


def sign_in(web, username: str) -> requests.Session:
    """Sign in through the login page of ``web``, as a browser does."""
    browser = requests.Session()
    browser.headers["Host"] = SHANGCHENG
    page = browser.get(url(web, "/accounts/login/"), timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = browser.post(url(web, "/accounts/login/"), timeout=30, allow_redirects=False,
                          data={"csrfmiddlewaretoken": token, "username": username, "password": PASSWORD})
    assert answer.status_code == 302 and "sessionid" in browser.cookies, answer.text[:2000]
    return browser


def me(browser: requests.Session, web) -> requests.Response:
    return browser.get(url(web, "/api/v1/me/"), timeout=30)


def case_on(web, pk: int) -> dict:
    answer = requests.get(url(web, f"/api/v1/cases/{pk}/"), headers={"Host": SHANGCHENG},
                          auth=("shangcheng_gridworker", PASSWORD), timeout=30)
    assert answer.status_code == 200, answer.text[:2000]
    return answer.json()


def square_around(lng: float, lat: float, half: float) -> dict:
    ring = [[lng - half, lat - half], [lng + half, lat - half], [lng + half, lat + half],
            [lng - half, lat + half], [lng - half, lat - half]]
    return {"type": "Polygon", "coordinates": [ring]}


def test_two_of_every_process_serve_one_platform(stack, committed, community_operator):
    from civicgrid.platform.org import actions as org_actions
    from civicgrid.platform.org.models import OrgUnit
    from civicgrid.province.onboarding import resume_tenant, suspend_tenant

    world = committed
    s3, store = object_store(stack)
    web_a, web_b = stack.web("web-a", **s3), stack.web("web-b", **s3)
    asgi_a, asgi_b = stack.asgi("asgi-a", **s3), stack.asgi("asgi-b", **s3)
    stack.worker("worker-1", **s3), stack.worker("worker-2", **s3)
    with tenant_context(world.shangcheng):
        g02 = OrgUnit.objects.get(code="T01-C01-G02")
        g02_boundary = g02.boundary
    sockets_a, sockets_b = Sockets(asgi_a.port), Sockets(asgi_b.port)
    try:
        # Signed in on one web server, known on the other (sessions live in PostgreSQL and Redis).
        operator = sign_in(web_a, "fault_community")
        assert me(operator, web_b).json()["username"] == "fault_community"
        cookie = f"sessionid={operator.cookies['sessionid']}"
        assert sockets_a.connect("on-a", SHANGCHENG, cookie)["type"] == "hello"
        assert sockets_b.connect("on-b", SHANGCHENG, cookie)["type"] == "hello"

        # A report with a photo on A: a worker thumbnails it, B serves both from the store.
        title = unique_title(PREFIX)
        sent = report_over_http(web_a.port, title, photo=a_photo())
        assert sent.status_code == 201, sent.text
        number, pk = sent.json()["number"], sent.json()["id"]
        assert sent.json()["grid"] == "T01-C01-G01"

        def thumbnailed():
            attachments = case_on(web_b, pk)["attachments"]
            return attachments and attachments[0]["thumbnail_url"] and attachments[0]

        attachment = eventually(thumbnailed, stack=stack)
        served = {}
        for path in (attachment["url"], attachment["thumbnail_url"]):
            answer = operator.get(url(web_b, path), timeout=30)
            assert answer.status_code == 200 and answer.content[:2] == b"\xff\xd8", (path, answer.text[:500])
            served[path] = answer.content
        assert len(served[attachment["thumbnail_url"]]) < len(served[attachment["url"]])
        kept = {o.object_name for o in store.list_objects(BUCKET, prefix="tenants/shangcheng/", recursive=True)}
        assert len(kept) == 2, kept  # the photo and its thumbnail, in the store and nowhere else

        # The handler's two sockets, one per ASGI server, both hear of the report (groups in Redis).
        for name, sockets in (("on-a", sockets_a), ("on-b", sockets_b)):
            eventually(lambda s=sockets, n=name: [m for m in s.messages(n, "notification")
                                                  if m["notification"]["number"] == number], stack=stack)

        # B builds its grid index; the boundary changes in another process; B's next report moves.
        first_on_b = report_over_http(web_b.port, unique_title(PREFIX))
        assert first_on_b.json()["grid"] == "T01-C01-G01"
        with stack.as_a_peer(), tenant_context(world.shangcheng):  # where B looks for changes
            org_actions.set_grid_boundary(grid=g02, boundary=square_around(IN_G01["longitude"],
                                                                             IN_G01["latitude"], 0.0005),
                                          acting_user=None)
        eventually(lambda: report_over_http(web_b.port, unique_title(PREFIX)).json()["grid"] == "T01-C01-G02",
                   timeout=15, stack=stack)

        # A tenant suspended in another process: both web servers refuse it within seconds.
        connection.set_schema_to_public()
        with stack.as_a_peer():
            suspend_tenant(tenant=world.shangcheng, acting_user=None, reason="多进程演练")
        try:
            for web in (web_a, web_b):
                eventually(lambda w=web: requests.get(url(w, "/api/v1/health/"), headers={"Host": SHANGCHENG},
                                                      timeout=30).status_code == 503, timeout=15, stack=stack)
        finally:
            with stack.as_a_peer():
                resume_tenant(tenant=world.shangcheng, acting_user=None)
        for web in (web_a, web_b):
            eventually(lambda w=web: me(operator, w).status_code == 200, timeout=15, stack=stack)

        # Signed out on B: A no longer knows the session.
        browser_token = operator.cookies["csrftoken"]
        out = operator.post(url(web_b, "/accounts/logout/"), headers={"X-CSRFToken": browser_token},
                            timeout=30, allow_redirects=False)
        assert out.status_code == 302, web_b.log()[-5000:]
        assert me(operator, web_a).status_code in (401, 403)
    finally:
        sockets_a.close_all(), sockets_b.close_all()
        with stack.as_a_peer(), tenant_context(world.shangcheng):
            org_actions.set_grid_boundary(grid=g02, boundary=g02_boundary, acting_user=None)
        discard_cases(world, PREFIX)


# --- every beat job, twice at once ---------------------------------------------------------------


def beat_jobs() -> list[str]:
    """The production schedule's tasks (the test settings run no beat)."""
    from civicgrid.config.settings import base

    return sorted({entry["task"] for entry in base.CELERY_BEAT_SCHEDULE.values()})


def test_every_beat_job_sent_twice_at_once_does_its_work_once(stack, sample_plugin_on, community_operator):
    from sample_plugin.models import HeardEvent

    from civicgrid.platform.audit.models import AuditAnchor
    from civicgrid.platform.cases.models import Case, CaseEvent
    from civicgrid.platform.notifications.models import Notification
    from civicgrid.province.models import DailyTotal
    from civicgrid.tenants.models import TenantHealth

    world = sample_plugin_on
    started = timezone.now()
    app.loader.import_default_modules()  # every app's tasks, registered here as in a worker
    jobs = beat_jobs()
    assert len(jobs) >= 14, jobs
    try:
        stack.world = world
        made = reports(4, stack)  # no worker yet: everything waits
        ids = [case.pk for case in made]
        with tenant_context(world.shangcheng):
            past = timezone.now() - timedelta(hours=1)  # every accept deadline long past
            Case.objects.filter(pk__in=ids).update(accept_due=past, accept_warn_at=past - timedelta(hours=1))
        stack.worker("worker-1"), stack.worker("worker-2")
        connection.set_schema_to_public()
        with stack.sending():
            for _beat in range(2):
                for name in jobs:
                    app.tasks[name].apply_async(retry=False)
        worker_idle(stack, quiet=3, timeout=180)
        logs = stack.logs()
        assert "raised unexpected" not in logs and "Traceback" not in logs, logs

        with tenant_context(world.shangcheng):
            done = side_effects(PREFIX_OF_REPORTS)
            assert done.events_waiting == 0 and done.index_queue == 0
            assert done.indexed == set(ids)
            assert done.reports_heard == {case.number: 1 for case in made}
            for case in Case.objects.filter(pk__in=ids):
                assert case.overdue_marks == ["accept"], case.overdue_marks
                assert CaseEvent.objects.filter(case=case, action="overdue").count() == 1
                assert CaseEvent.objects.filter(case=case, action="escalate").count() == 1
            told = list(Notification.objects.filter(case_id__in=ids).values_list("case_id", "recipient_id", "topic"))
            assert told and len(told) == len(set(told)), "a notification went twice"
            assert HeardEvent.objects.filter(case_number__in=[c.number for c in made], hook="reported").count() == 4
        channelled = stack.channelled()
        assert len(channelled) == len(set(channelled)), "an unread notification went to a channel twice"
        connection.set_schema_to_public()
        assert TenantHealth.objects.filter(tenant=world.shangcheng).count() == 1
        assert DailyTotal.objects.filter(tenant=world.shangcheng, day=timezone.localdate()).count() == 1
        heads = {}
        for anchor in AuditAnchor.objects.filter(anchored_at__gte=started):
            heads.setdefault(anchor.schema, set()).add(anchor.row_id)
        assert "shangcheng" in heads  # published (twice: the same head, or a later one, never an older one)
    finally:
        connection.set_schema_to_public()
        AuditAnchor.objects.filter(anchored_at__gte=started).delete()
        discard_cases(world, PREFIX_OF_REPORTS)

"""/metrics: Prometheus's text format with the token on the province's host (or a host no tenant
answers on, as Prometheus addresses a pod), and a 404 that says nothing to everyone else.

In the test process through Django's client, against the real schemas and the real Redis
broker: the request counter goes up with a request, the outbox gauges with a waiting event and
failed deliveries in a tenant, the queue length with tasks sent to a queue no worker reads."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from prometheus_client.parser import text_string_to_metric_families

from civicgrid.config.celery import app
from civicgrid.platform.monitoring import queues
from civicgrid.platform.notifications.models import OutboxDelivery, OutboxEvent
from civicgrid.platform.notifications.outbox import emit
from civicgrid.tenants.models import Domain
from tests.cms.helpers import site

TOKEN = "m" * 24 + uuid.uuid4().hex  # 56 characters
PROVINCE = "localhost"
XINGFU = "xingfu.shangcheng.localhost"


@pytest.fixture
def token(settings):
    settings.CIVICGRID_METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(host: str = PROVINCE, token: str | None = TOKEN, method: str = "get"):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token is not None else {}
    return getattr(Client(HTTP_HOST=host), method)("/metrics", **headers)


def samples(response) -> dict[tuple, float]:
    """(sample name, sorted label pairs) → value."""
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.content.decode()) for s in family.samples}


def page(response) -> bytes:
    """The answer's body, without the per-request CSRF token of the language form."""
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", response.content)


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_the_province_host_with_the_token_gets_every_metric(world, token):
    assert Client(HTTP_HOST=PROVINCE).get("/api/v1/health/").status_code == 200
    found = samples(scrape())
    names = {name for name, _labels in found}
    assert {
        "civicgrid_http_requests_total", "civicgrid_http_tenant_requests_total",
        "civicgrid_http_request_duration_seconds_bucket", "civicgrid_http_requests_in_progress",
        "civicgrid_celery_queue_length", "civicgrid_celery_unacked_tasks",
        "civicgrid_outbox_oldest_waiting_seconds", "civicgrid_outbox_waiting_events",
        "civicgrid_outbox_retrying_deliveries", "civicgrid_outbox_dead_letters", "civicgrid_scrape_failures",
        "civicgrid_build_info", "process_resident_memory_bytes",
    } <= names, names
    # Sockets are daphne's (ws): test_sockets_and_workers.py sees them counted there.
    # Every ready tenant's outbox is read; nothing failed.
    for tenant in ("hangzhou", "shangcheng", "yuhang"):
        assert ("civicgrid_outbox_dead_letters", (("tenant", tenant),)) in found
    assert value(found, "civicgrid_scrape_failures", part="outbox") == 0
    assert value(found, "civicgrid_scrape_failures", part="queues") == 0
    assert value(found, "civicgrid_http_requests_in_progress") >= 1  # this very scrape


def test_a_request_is_counted_by_route_name_and_tenant_never_by_path(world, token):
    before = samples(scrape())
    follow = Client(HTTP_HOST="shangcheng.localhost").get(f"/r/{uuid.uuid4()}/")  # a reporter's link, no such case
    assert follow.status_code == 404
    health = Client(HTTP_HOST="shangcheng.localhost").get("/api/v1/health/?canary=13912345678")
    assert health.status_code == 200
    after = scrape()
    found = samples(after)
    assert value(found, "civicgrid_http_requests_total", method="GET", route="api-health", status="2xx") == \
        value(before, "civicgrid_http_requests_total", method="GET", route="api-health", status="2xx") + 1
    assert value(found, "civicgrid_http_requests_total", method="GET", route="case-follow", status="4xx") == \
        value(before, "civicgrid_http_requests_total", method="GET", route="case-follow", status="4xx") + 1
    for status in ("2xx", "4xx"):
        assert value(found, "civicgrid_http_tenant_requests_total", tenant="shangcheng", status=status) == \
            value(before, "civicgrid_http_tenant_requests_total", tenant="shangcheng", status=status) + 1
    assert value(found, "civicgrid_http_request_duration_seconds_count", route="api-health") >= 1
    text = after.content.decode()
    assert "/r/" not in text and "13912345678" not in text and "canary" not in text
    labels = {pair for (_name, pairs) in found for pair in pairs}
    assert {key for key, _ in labels} <= {"method", "route", "status", "tenant", "queue", "part", "le", "version",
                                           "implementation", "major", "minor", "patchlevel", "generation"}


def test_the_outbox_gauges_show_a_waiting_event_and_failed_deliveries(world, token):
    with tenant_context(world.shangcheng):
        OutboxEvent.objects.filter(delivered_at__isnull=True).update(delivered_at=timezone.now())  # a clean start
        waiting = emit("metrics.test")
        OutboxEvent.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(minutes=7))
        delivered = emit("metrics.test")
        OutboxEvent.objects.filter(pk=delivered.pk).update(delivered_at=timezone.now())
        now = timezone.now()
        OutboxDelivery.objects.create(event=delivered, subscriber="a.retried", attempts=2, first_failed_at=now,
                                      next_attempt_at=now + timedelta(minutes=1))
        OutboxDelivery.objects.create(event=delivered, subscriber="a.dead", attempts=10, first_failed_at=now,
                                      next_attempt_at=now, dead_at=now)
    found = samples(scrape())
    assert 7 * 60 <= value(found, "civicgrid_outbox_oldest_waiting_seconds", tenant="shangcheng") < 8 * 60
    assert value(found, "civicgrid_outbox_waiting_events", tenant="shangcheng") == 1
    assert value(found, "civicgrid_outbox_retrying_deliveries", tenant="shangcheng") == 1
    assert value(found, "civicgrid_outbox_dead_letters", tenant="shangcheng") == 1
    assert value(found, "civicgrid_outbox_dead_letters", tenant="yuhang") == 0  # tenant by tenant


def test_the_queue_length_counts_every_priority_of_the_broker_queue(world, token, settings):
    queue = f"metrics-test-{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    try:
        assert value(samples(scrape()), "civicgrid_celery_queue_length", queue=queue) == 0
        for priority in (0, 0, 9):  # 9 goes to a priority sub-queue (``<queue>\x06\x169``)
            app.send_task("civicgrid.monitoring.test.nothing", queue=queue, priority=priority)
        found = samples(scrape())
        assert value(found, "civicgrid_celery_queue_length", queue=queue) == 3
        assert ("civicgrid_celery_unacked_tasks", ()) in found
    finally:
        with app.connection_for_write() as connection:
            channel = connection.default_channel
            channel.client.delete(*queues.list_keys(queue, channel))


def test_a_host_no_tenant_answers_on_gets_the_metrics_as_prometheus_asks_a_pod(world, token):
    for host in ("10.0.3.7:8000", "web:8000", "civicgrid-web.civicgrid.svc"):
        assert ("civicgrid_build_info", (("version", "0.1.0"),)) in samples(scrape(host)), host


def test_without_the_right_token_or_off_the_province_host_it_is_a_404_that_says_nothing(world, settings):
    settings.CIVICGRID_METRICS_TOKEN = ""
    unset = scrape(token=TOKEN)
    settings.CIVICGRID_METRICS_TOKEN = "short-" + "x" * 20  # under 32 characters: not a secret, nobody let in
    short = scrape(token=settings.CIVICGRID_METRICS_TOKEN)
    settings.CIVICGRID_METRICS_TOKEN = TOKEN
    missing, wrong = scrape(token=None), scrape(token=TOKEN[:-1] + ("1" if TOKEN.endswith("0") else "0"))
    basic = Client(HTTP_HOST=PROVINCE).get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}")
    posted = scrape(method="post")
    answers = {"unset": unset, "short": short, "missing": missing, "wrong": wrong, "basic": basic, "post": posted}
    for name, answer in answers.items():
        assert answer.status_code == 404, name
        assert b"civicgrid_" not in answer.content, name
    # The same page as a request with no token at all: nothing tells a token is wanted here.
    assert {page(answer) for name, answer in answers.items() if name != "post"} == {page(missing)}
    # A city's, a county's and a community site's host: with the right token, what any unknown
    # path gets there without one (their pages add the slash, then find nothing).
    community = site(world.shangcheng, "T01-C01", "xingfu")  # a community's site, made by the real action
    assert Domain.objects.filter(domain=XINGFU, serves=Domain.Serves.COMMUNITY_SITE).exists()
    for host in ("hangzhou.localhost", "shangcheng.localhost", XINGFU):
        with_token, without = scrape(host), scrape(host, token=None)
        assert (with_token.status_code, with_token.get("Location")) == (without.status_code, without.get("Location"))
        assert page(with_token) == page(without) and b"civicgrid_" not in with_token.content, host
        followed = Client(HTTP_HOST=host).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", follow=True)
        assert followed.status_code == 404 and b"civicgrid_" not in followed.content, host
    with tenant_context(world.shangcheng):  # its root is cached by Wagtail; the site is rolled back
        community.site.clear_site_root_paths_cache()


def test_a_part_that_cannot_be_read_is_counted_and_the_rest_still_answers(world, token):
    """The broker out of reach (a port nobody listens on): no queue figures, a failure counted,
    every other figure there."""
    from tests.conftest import free_port

    before, app.conf.broker_read_url = app.conf.broker_read_url, f"redis://127.0.0.1:{free_port()}/0"
    try:
        found = samples(scrape())
    finally:
        app.conf.broker_read_url = before
    assert value(found, "civicgrid_scrape_failures", part="queues") == 1
    assert value(found, "civicgrid_scrape_failures", part="outbox") == 0
    assert not any(name == "civicgrid_celery_queue_length" for name, _labels in found)
    assert ("civicgrid_outbox_dead_letters", (("tenant", "shangcheng"),)) in found

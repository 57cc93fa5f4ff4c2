"""The inbox: the console page, the API's cursor and read-all, and the rules every
entry point shares (your own notifications only; each read announced once through
the outbox so your other tabs follow; opening a case reads its notifications)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.notifications import actions
from civicgrid.platform.notifications.models import Notification, OutboxEvent
from tests.platform.cases.test_workflow import handler, report, staff

SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"
ROUTES_COVERED = {name: "test_others_get_nothing_from_the_inbox_and_change_nothing"
                  for name in ("inbox", "read", "read-all", "api-notifications-read-all")}


@pytest.fixture
def sc(world):
    with tenant_context(world.shangcheng):
        yield world


def dispatched_to(department: str, count: int = 2):
    operator = staff("shangcheng_operator")
    cases = []
    for n in range(count):
        case = report(title=f"收件箱测试 {n}")
        case_actions.accept_case(staff=operator, case_id=case.pk)
        cases.append(case_actions.dispatch_case(staff=operator, case_id=case.pk, department=department))
    return cases


def signed_in(world, username, host=SHANGCHENG, api=False):
    http = (APIClient if api else Client)(HTTP_HOST=host)
    http.force_login(world.user(username))
    return http


def unread_of(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def test_reads_are_announced_once_for_the_readers_other_tabs(sc):
    jus = handler("D-JUS")
    first, second = dispatched_to("D-JUS")
    mine = Notification.objects.filter(recipient=jus.user, case__in=[first, second]).order_by("pk")

    def announced():
        return [(e.payload["user_id"], e.payload["ids"]) for e in OutboxEvent.objects.filter(topic="inbox.read").order_by("pk")]

    actions.mark_read(user=jus.user, notification_id=mine[0].pk)
    actions.mark_read(user=jus.user, notification_id=mine[0].pk)  # again: nothing new to say
    assert announced() == [(jus.user.pk, [mine[0].pk])]

    assert actions.mark_case_read(user=jus.user, case=second) == 1
    assert announced()[1:] == [(jus.user.pk, [mine[1].pk])]
    assert actions.mark_all_read(user=jus.user) == unread_of(jus.user) == 0
    assert len(announced()) == 2  # nothing was left to read, nothing to announce


def test_opening_a_case_reads_what_was_said_of_it(sc):
    jus = handler("D-JUS")
    [case] = dispatched_to("D-JUS", count=1)
    assert Notification.objects.get(recipient=jus.user, case=case).read_at is None
    assert signed_in(sc, jus.user.username).get(f"/cases/{case.pk}/").status_code == 200
    assert Notification.objects.get(recipient=jus.user, case=case).read_at is not None


def test_the_inbox_page_lists_marks_and_opens(sc):
    jus = handler("D-JUS")
    first, second = dispatched_to("D-JUS")
    http = signed_in(sc, jus.user.username)
    page = http.get("/notifications/")
    assert page.status_code == 200
    html = page.content.decode()
    assert first.number in html and second.number in html and 'data-live-unread' in html
    note = Notification.objects.get(recipient=jus.user, case=first)

    # A toast's link: marked read, then off to the case.
    opened = http.post(f"/notifications/{note.pk}/read/", {"open": "1"})
    assert opened.status_code == 302 and opened["Location"] == f"/cases/{first.pk}/"
    note.refresh_from_db()
    assert note.read_at is not None

    assert http.post("/notifications/read-all/").status_code == 302
    assert unread_of(jus.user) == 0
    assert http.get("/notifications/", HTTP_ACCEPT_LANGUAGE="en").status_code == 200


def test_the_api_gives_what_arrived_since_a_cursor_oldest_first_with_the_unread_count(sc):
    jus = handler("D-JUS")
    http = signed_in(sc, jus.user.username, api=True)
    cursor = http.get("/api/v1/notifications/").json()["results"]
    seen = max((row["id"] for row in cursor), default=0)
    cases = dispatched_to("D-JUS", count=3)
    answer = http.get(f"/api/v1/notifications/?since={seen}").json()
    assert [row["case"] for row in answer["results"]] == [case.pk for case in cases]
    assert answer["unread"] == unread_of(jus.user) >= 3
    assert http.get("/api/v1/notifications/?since=abc").status_code == 400
    unread_only = http.get("/api/v1/notifications/?unread=true").json()
    assert all(row["read_at"] is None for row in unread_only["results"])

    assert http.post("/api/v1/notifications/read-all/").json() == {"marked": answer["unread"]}
    assert http.get("/api/v1/notifications/").json()["unread"] == 0


def test_others_get_nothing_from_the_inbox_and_change_nothing(sc):
    jus = handler("D-JUS")
    [case] = dispatched_to("D-JUS", count=1)
    note = Notification.objects.get(recipient=jus.user, case=case)
    unread = unread_of(jus.user)
    pages = [("get", "/notifications/"), ("post", f"/notifications/{note.pk}/read/"),
             ("post", "/notifications/read-all/")]
    api = [("get", "/api/v1/notifications/"), ("post", f"/api/v1/notifications/{note.pk}/read/"),
           ("post", "/api/v1/notifications/read-all/")]

    # Another county's staff, on this host and their own; a province user: not found.
    for username, host in (("yuhang_operator", SHANGCHENG), ("prov_admin", SHANGCHENG)):
        for method, url in pages:
            assert getattr(signed_in(sc, username, host), method)(url).status_code == 404, (username, url)
        for method, url in api:
            assert getattr(signed_in(sc, username, host, api=True), method)(url).status_code == 404, (username, url)
    # On their own county, another county's user reads their own inbox: this one's note is not theirs.
    other = signed_in(sc, "yuhang_operator", YUHANG)
    assert other.post(f"/notifications/{note.pk}/read/").status_code == 404
    # A colleague in this county: their own inbox, never this note.
    colleague = signed_in(sc, "shangcheng_operator")
    assert colleague.post(f"/notifications/{note.pk}/read/").status_code == 404
    assert case.number not in colleague.get("/notifications/").content.decode()
    # Nobody signed in: to the sign-in page, or 401/403 for the API.
    anonymous = Client(HTTP_HOST=SHANGCHENG)
    for method, url in pages:
        assert getattr(anonymous, method)(url).status_code == 302
    for method, url in api:
        assert getattr(APIClient(HTTP_HOST=SHANGCHENG), method)(url).status_code in (401, 403)
    # A GET cannot mark anything.
    assert signed_in(sc, jus.user.username).get(f"/notifications/{note.pk}/read/").status_code == 405
    assert unread_of(jus.user) == unread and Notification.objects.get(pk=note.pk).read_at is None


def test_with_redis_down_the_relay_delivers_and_the_nudges_are_dropped_quickly(sc, settings,
                                                                           django_capture_on_commit_callbacks):
    """The socket is only a nudge: a channel layer that cannot be reached costs the relay a
    refused connection, not the events (the pages catch up from the store)."""
    import logging
    import time

    from tests.conftest import free_port

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "civicgrid.platform.notifications.layer.NotificationChannelLayer", "CONFIG": {
        "hosts": [{"address": f"redis://127.0.0.1:{free_port()}/0", "socket_connect_timeout": 1}]}}}
    handler("D-JUS")
    [case] = dispatched_to("D-JUS", count=1)
    warnings = []
    handler_ = logging.Handler()
    handler_.emit = lambda record: warnings.append(record.getMessage())
    logger = logging.getLogger("civicgrid.platform.notifications.realtime")
    logger.addHandler(handler_)
    try:
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            from civicgrid.platform.notifications.outbox import relay

            assert relay() >= 1
        took = time.monotonic() - started
    finally:
        logger.removeHandler(handler_)
    assert not OutboxEvent.objects.filter(payload__case_id=case.pk, delivered_at__isnull=True).exists()
    assert any("nudges not sent" in message for message in warnings) and took < 10

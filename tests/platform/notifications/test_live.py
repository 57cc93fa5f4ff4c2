"""Live nudges end to end: real websocket clients against a live ASGI server
(daphne), cases moved through the real actions and committed, the outbox relayed
in this process or by a real Celery worker, messages through the real Redis
channel layer. Who hears what is the point: a dispatch reaches the department's
handlers and nobody else, and another tenant hears nothing."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.models import User
from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import Case, Source
from civicgrid.platform.notifications.models import Notification, OutboxEvent
from civicgrid.platform.notifications.outbox import relay
from tests.platform.cases.test_workflow import IN_G01, handler, staff

from .sockets import Sockets

pytestmark = pytest.mark.slow
TITLE = "实时推送测试 楼道堆物"
SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"
HANDLERS = {"fire_1": "D-FIRE", "fire_2": "D-FIRE", "edu": "D-EDU"}


@pytest.fixture
def people(committed, django_db_blocker):
    """Handlers of two departments in shangcheng (committed: the server is another
    process), session cookies for everyone, and everything made removed afterwards."""
    with tenant_context(committed.shangcheng):
        for name, code in HANDLERS.items():
            handler(code, username=f"live_{name}")
    clients = []

    def cookie(username: str) -> str:
        connection.set_schema_to_public()
        client = Client()
        client.force_login(User.objects.get(username=username))
        clients.append(client)
        return f"sessionid={client.cookies['sessionid'].value}"

    yield cookie
    for client in clients:
        client.logout()
    with tenant_context(committed.shangcheng):
        cases = list(Case.objects.filter(title__startswith=TITLE).values_list("pk", flat=True))
        OutboxEvent.objects.filter(payload__case_id__in=cases).delete()
        OutboxEvent.objects.filter(topic="inbox.read").delete()
        Case.objects.filter(pk__in=cases).delete()  # timelines and notifications go with them
        StaffProfile.objects.filter(user__username__startswith="live_").delete()
        User.objects.filter(username__startswith="live_").delete()  # its cascade reaches the tenant's tables


@pytest.fixture
def sockets(asgi_server):
    found = Sockets(asgi_server)
    yield found
    found.close_all()


def dispatched(world, department: str, title: str = TITLE) -> Case:
    """A case reported at the hotline and dispatched to ``department`` by the operator."""
    with tenant_context(world.shangcheng):
        operator = staff("shangcheng_operator")
        case = actions.report_case(staff=operator, category="DSP-NEIGHBOUR", title=title,
                                   source=Source.HOTLINE_12345, **IN_G01)
        actions.accept_case(staff=operator, case_id=case.pk)
        return actions.dispatch_case(staff=operator, case_id=case.pk, department=department)


def relayed(world) -> None:
    with tenant_context(world.shangcheng):
        relay()


def test_a_dispatch_reaches_the_departments_handlers_and_nobody_else(committed, people, sockets):
    for name in HANDLERS:
        assert sockets.connect(name, SHANGCHENG, people(f"live_{name}"))["type"] == "hello"
    sockets.connect("operator", SHANGCHENG, people("shangcheng_operator"))
    sockets.connect("grid_worker", SHANGCHENG, people("shangcheng_gridworker"))
    sockets.connect("other_county", YUHANG, people("yuhang_operator"))

    case = dispatched(committed, "D-FIRE")
    relayed(committed)

    for name in ("fire_1", "fire_2"):
        [popped] = sockets.wait_for(name, "notification")
        note = popped["notification"]
        assert (note["topic"], note["number"], note["case"]) == ("case.dispatch", case.number, case.pk)
        assert note["url"] == f"/cases/{case.pk}/" and popped["unread"] >= 1
        assert note["case_title"] == TITLE
    # The command centre's and the grid's lists hear each step; nobody there was notified.
    assert [m["case"]["action"] for m in sockets.wait_for("operator", "case", count=3)] == [
        "report", "accept", "dispatch"]
    sockets.wait_for("grid_worker", "case", count=3)
    time.sleep(0.5)  # a wrong message would have come with the right ones
    # The handlers were told of the dispatch itself: no second, list-only message each.
    assert sockets.messages("fire_1", "case") == sockets.messages("fire_2", "case") == []
    assert sockets.messages("operator", "notification") == []
    assert sockets.messages("grid_worker", "notification") == []
    assert sockets.messages("edu") == []
    assert sockets.messages("other_county") == []


def test_a_dispatch_pops_up_through_the_worker_with_nobody_relaying_by_hand(committed, people, sockets,
                                                                          celery_worker):
    sockets.connect("fire_1", SHANGCHENG, people("live_fire_1"))
    began = time.monotonic()
    case = dispatched(committed, "D-FIRE")  # commit → relay request → the worker → Redis → daphne
    [popped] = sockets.wait_for("fire_1", "notification", timeout=30)
    assert popped["notification"]["number"] == case.number
    assert time.monotonic() - began < 30


def test_a_page_that_reconnects_gets_what_it_missed(committed, people, sockets):
    hello = sockets.connect("fire_1", SHANGCHENG, people("live_fire_1"))
    seen = hello["newest"]
    sockets.close("fire_1")  # the laptop sleeps

    missed = [dispatched(committed, "D-FIRE", title=f"{TITLE} {n}") for n in range(2)]
    relayed(committed)  # the nudges go out while nobody listens

    hello = sockets.connect("fire_1", SHANGCHENG, people("live_fire_1"), since=seen)
    caught_up = sockets.wait_for("fire_1", "notification", count=2)
    assert [m["notification"]["number"] for m in caught_up] == [case.number for case in missed]
    assert all(m["missed"] for m in caught_up) and hello["unread"] >= 2
    assert hello["newest"] == caught_up[-1]["notification"]["id"]


def test_reading_in_one_tab_updates_the_counter_in_the_others(committed, people, sockets):
    cookie = people("live_fire_1")
    case = dispatched(committed, "D-FIRE")
    relayed(committed)
    first = sockets.connect("tab_1", SHANGCHENG, cookie)
    sockets.connect("tab_2", SHANGCHENG, cookie)
    with tenant_context(committed.shangcheng):
        note = Notification.objects.get(case=case, recipient__username="live_fire_1")
    answer = Client(HTTP_HOST=SHANGCHENG, HTTP_COOKIE=cookie).post(f"/api/v1/notifications/{note.pk}/read/")
    assert answer.status_code == 200, answer.content
    relayed(committed)
    for tab in ("tab_1", "tab_2"):
        [read] = sockets.wait_for(tab, "read")
        assert read["ids"] == [note.pk] and read["unread"] == first["unread"] - 1


def test_pings_are_answered_and_anything_else_is_ignored(committed, people, sockets):
    sockets.connect("fire_1", SHANGCHENG, people("live_fire_1"))
    sockets.send("fire_1", {"type": "subscribe", "group": "t.yuhang.command"})  # no such thing
    sockets.send("fire_1", {"type": "ping"})
    sockets.wait_for("fire_1", "pong")
    assert [m["type"] for m in sockets.messages("fire_1")] == ["pong"]

"""My queue: per role, most urgent first, counts per light, bulk accept for coordinators;
nothing for another tenant or a role without a queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import Case, Source, Status
from civicgrid.platform.cases.queues import light_counts, queue_for
from tests.platform.cases.test_case_pages import IN_G01, member, staff

ROUTES_COVERED = {
    "console-queue": "test_the_queue_is_not_found_for_another_tenant_or_an_auditor",
    "console-queue-accept": "test_bulk_accept_takes_only_what_the_member_may_accept",
}
SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"


def hotline_case(title: str, *, reported_hours_ago: float = 0) -> Case:
    case = actions.report_case(staff=staff("shangcheng_operator"), category="DSP-NEIGHBOUR", title=title,
                               source=Source.HOTLINE_12345, **IN_G01)
    if reported_hours_ago:
        # An older report: its accept deadline has passed (red) — moved by the clock, not by hand.
        Case.objects.filter(pk=case.pk).update(accept_due=timezone.now() - timedelta(hours=reported_hours_ago),
                                               accept_warn_at=timezone.now() - timedelta(hours=reported_hours_ago + 1))
    return Case.objects.get(pk=case.pk)


def signed_in(world, username: str, host: str = SHANGCHENG) -> Client:
    client = Client(HTTP_HOST=host)
    client.force_login(world.user(username))
    return client


@pytest.fixture
def sc(world):
    with tenant_context(world.shangcheng):
        member("q_jus", StaffRole.DEPARTMENT_HANDLER, department="D-JUS")
        member("q_auditor", StaffRole.AUDITOR)
        yield world


def test_the_operators_queue_puts_red_first_and_counts_each_light(sc):
    fresh = hotline_case("新报的噪音投诉")
    late = hotline_case("超时未受理的噪音投诉", reported_hours_ago=3)
    queue = list(queue_for(staff("shangcheng_operator")))
    numbers = [case.number for case in queue]
    assert numbers.index(late.number) < numbers.index(fresh.number)
    counts = light_counts(queue_for(staff("shangcheng_operator")))
    assert counts["red"] >= 1 and counts["total"] == counts["red"] + counts["yellow"] + counts["green"]

    page = signed_in(sc, "shangcheng_operator").get("/queue/")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index(late.number) < html.index(fresh.number)
    assert 'data-count="red"' in html
    red_only = signed_in(sc, "shangcheng_operator").get("/queue/?light=red").content.decode()
    assert late.number in red_only and fresh.number not in red_only


def test_a_handlers_queue_is_what_their_department_holds(sc):
    case = hotline_case("需司法局处理的纠纷")
    actions.accept_case(staff=staff("shangcheng_operator"), case_id=case.pk)
    actions.dispatch_case(staff=staff("shangcheng_operator"), case_id=case.pk, department="D-JUS")
    assert case.pk in {c.pk for c in queue_for(staff("q_jus"))}
    assert case.pk not in {c.pk for c in queue_for(staff("shangcheng_operator"))}, "dispatched: off the desk"
    html = signed_in(sc, "q_jus").get("/queue/").content.decode()
    assert case.number in html and "data-bulk-accept" not in html


def test_bulk_accept_takes_only_what_the_member_may_accept(sc):
    first, second = hotline_case("批量受理一"), hotline_case("批量受理二")
    already = hotline_case("已受理")
    actions.accept_case(staff=staff("shangcheng_operator"), case_id=already.pk)
    client = signed_in(sc, "shangcheng_operator")
    assert "data-bulk-accept" in client.get("/queue/").content.decode()
    answer = client.post("/queue/accept/", {"case": [first.pk, second.pk, already.pk, 999999]}, follow=True)
    assert answer.status_code == 200
    assert Case.objects.get(pk=first.pk).status == Status.ACCEPTED
    assert Case.objects.get(pk=second.pk).status == Status.ACCEPTED
    text = answer.content.decode()
    assert "2" in text and "999999" in text

    # A handler may not accept: nothing changes.
    third = hotline_case("处理人不能受理")
    signed_in(sc, "q_jus").post("/queue/accept/", {"case": [third.pk]})
    assert Case.objects.get(pk=third.pk).status == Status.REPORTED
    # Another tenant's operator on this host: not a member here.
    assert signed_in(sc, "yuhang_operator", YUHANG).post("/queue/accept/", {"case": [third.pk]},
                                                         HTTP_HOST=SHANGCHENG).status_code == 404
    assert Case.objects.get(pk=third.pk).status == Status.REPORTED


def test_the_queue_is_not_found_for_another_tenant_or_an_auditor(sc):
    assert signed_in(sc, "q_auditor").get("/queue/").status_code == 404
    assert signed_in(sc, "yuhang_operator", SHANGCHENG).get("/queue/").status_code == 404
    assert Client(HTTP_HOST=SHANGCHENG).get("/queue/").status_code == 302
    assert signed_in(sc, "q_auditor").post("/queue/accept/", {"case": ["1"]}).status_code == 404

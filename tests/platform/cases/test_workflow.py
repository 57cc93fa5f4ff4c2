"""The case workflow through its actions: the whole lifecycle, who may do what,
invalid transitions, stale versions, escalation, duplicates and reopening."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.utils import translation
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import Case, CaseEvent, Category, Level, Source, Status
from civicgrid.platform.notifications.models import Notification, OutboxEvent
from civicgrid.platform.notifications.outbox import relay
from civicgrid.platform.org.models import Department

IN_G01 = {"latitude": 30.245, "longitude": 120.175}  # inside shangcheng's T01-C01-G01


def staff(username: str) -> StaffProfile:
    return StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department").get(
        user__username=username)


def handler(code: str = "D-JUS", username: str = "") -> StaffProfile:
    username = username or f"handler_{code.lower()}"
    if not StaffProfile.objects.filter(user__username=username).exists():
        create_staff_member(username=username, password="x" * 12, role=StaffRole.DEPARTMENT_HANDLER,
                            scope_department=Department.objects.get(code=code), acting_user=None)
    return staff(username)


def report(by: str = "shangcheng_gridworker", **extra) -> Case:
    values = {"category": "DSP-NEIGHBOUR", "title": "楼上漏水邻里争吵", "description": "两户因漏水争执",
              "source": Source.GRID_WORKER, **IN_G01}
    values.update(extra)
    return actions.report_case(staff=staff(by), **values)


@pytest.fixture
def shangcheng(world):
    with tenant_context(world.shangcheng), translation.override("en"):
        yield world


def test_categories_are_seeded_at_onboarding(shangcheng):
    leaves = Category.objects.filter(parent__isnull=False)
    assert leaves.count() >= 40
    assert Category.objects.filter(parent__isnull=True).count() >= 4


def test_a_grid_workers_report_goes_all_the_way_to_a_rated_closure(shangcheng):
    case = report()
    assert case.number.startswith("330102-") and case.status == Status.REPORTED
    assert case.grid.code == "T01-C01-G01" and case.level == Level.COMMUNITY
    assert case.accept_due > case.reported_at

    operator, jus = staff("shangcheng_operator"), handler("D-JUS")
    case = actions.accept_case(staff=operator, case_id=case.pk, version=case.version)
    case = actions.dispatch_case(staff=operator, case_id=case.pk, version=case.version)  # by the routing hint
    assert case.department.code == "D-JUS" and case.handle_due > case.dispatched_at
    assert Notification.objects.filter(recipient=jus.user, case=case, topic="case.dispatch").exists()

    case = actions.start_case(staff=jus, case_id=case.pk, version=case.version)
    case = actions.handle_case(staff=jus, case_id=case.pk, version=case.version, result="已调解，双方签字")
    reporter = staff("shangcheng_gridworker").user
    assert Notification.objects.filter(recipient=reporter, case=case, topic="case.handle").exists()
    case = actions.rate_case(staff=operator, case_id=case.pk, rating=5, comment="回访满意", version=case.version)
    case = actions.close_case(staff=operator, case_id=case.pk, version=case.version)

    assert case.status == Status.CLOSED and case.rating == 5 and case.version == 7
    assert list(case.events.values_list("action", flat=True)) == [
        "report", "accept", "dispatch", "start", "handle", "rate", "close"]
    assert AuditEntry.objects.filter(target_id=str(case.pk), action__startswith="case.").count() == 7
    assert OutboxEvent.objects.filter(payload__case_id=case.pk).count() == 7


def test_wrong_roles_get_not_found_and_nothing_changes(shangcheng):
    case = report()
    before = (case.status, case.version, CaseEvent.objects.count())
    for username, act in [
        ("shangcheng_gridworker", lambda s: actions.accept_case(staff=s, case_id=case.pk)),
        ("shangcheng_gridworker", lambda s: actions.dispatch_case(staff=s, case_id=case.pk, department="D-JUS")),
    ]:
        with pytest.raises(Http404):
            act(staff(username))
    operator = staff("shangcheng_operator")
    actions.accept_case(staff=operator, case_id=case.pk)
    case = actions.dispatch_case(staff=operator, case_id=case.pk, department="D-JUS")
    with pytest.raises(Http404):  # a handler of another department does not even see it
        actions.start_case(staff=handler("D-PSB"), case_id=case.pk)
    with pytest.raises(Http404):  # operators coordinate; handling is the department's
        actions.handle_case(staff=operator, case_id=case.pk, result="x")
    assert Case.objects.get(pk=case.pk).status == Status.DISPATCHED
    assert before[2] + 2 == CaseEvent.objects.count()


def test_another_county_does_not_find_the_case(shangcheng, world):
    case = report()
    with tenant_context(world.yuhang):
        operator = staff("yuhang_operator")
        with pytest.raises(Http404):
            actions.accept_case(staff=operator, case_id=case.pk)
    assert Case.objects.get(pk=case.pk).status == Status.REPORTED


def test_invalid_transitions_and_stale_versions_are_conflicts(shangcheng):
    case = report()
    operator = staff("shangcheng_operator")
    with pytest.raises(actions.CaseConflict, match="cannot"):
        actions.close_case(staff=operator, case_id=case.pk)
    actions.accept_case(staff=operator, case_id=case.pk, version=case.version)
    with pytest.raises(actions.CaseConflict, match="Someone else"):
        actions.accept_case(staff=operator, case_id=case.pk, version=case.version)  # the old version
    assert Case.objects.get(pk=case.pk).version == case.version + 1


def test_bad_input_is_refused_with_reasons_and_nothing_is_stored(shangcheng):
    count = Case.objects.count()
    with pytest.raises(ValidationError) as caught:
        report(title=" ", category="NO-SUCH")
    assert "category" in caught.value.message_dict
    with pytest.raises(ValidationError) as caught:
        report(latitude=95.0, longitude=120.0)
    assert "location" in caught.value.message_dict
    with pytest.raises(ValidationError):
        report(reporter_phone="12")
    case = report()
    with pytest.raises(ValidationError):
        actions.reject_case(staff=staff("shangcheng_operator"), case_id=case.pk, reason="")
    assert Case.objects.count() == count + 1 and Case.objects.get(pk=case.pk).status == Status.REPORTED


def test_escalation_climbs_one_level_at_a_time_and_stops_at_the_county(shangcheng):
    case = report()
    operator = staff("shangcheng_operator")
    case = actions.escalate_case(staff=operator, case_id=case.pk, reason="社区调解不成")
    assert (case.level, case.status) == (Level.TOWNSHIP, Status.ESCALATED)
    case = actions.escalate_case(staff=None, case_id=case.pk, reason="超期自动升级", automatic=True)
    assert case.level == Level.COUNTY
    with pytest.raises(actions.CaseConflict):
        actions.escalate_case(staff=operator, case_id=case.pk, reason="again")
    case = actions.dispatch_case(staff=operator, case_id=case.pk, department="D-PSB")
    assert case.status == Status.DISPATCHED


def test_return_extension_transfer_and_reopen(shangcheng):
    operator, jus, psb = staff("shangcheng_operator"), handler("D-JUS"), handler("D-PSB")
    case = report()
    actions.accept_case(staff=operator, case_id=case.pk)
    actions.dispatch_case(staff=operator, case_id=case.pk)
    case = actions.return_case(staff=jus, case_id=case.pk, reason="涉及治安，非本部门职责")
    assert case.status == Status.RETURNED and case.department is None
    case = actions.dispatch_case(staff=operator, case_id=case.pk, department="D-PSB")
    actions.start_case(staff=psb, case_id=case.pk)
    case = actions.request_extension(staff=psb, case_id=case.pk, hours=8, reason="需要调取监控")
    due = case.handle_due
    with pytest.raises(actions.CaseConflict):
        actions.request_extension(staff=psb, case_id=case.pk, hours=8, reason="again")
    case = actions.decide_extension(staff=operator, case_id=case.pk, grant=True)
    assert case.handle_due > due
    case = actions.transfer_case(staff=operator, case_id=case.pk, department="D-JUS", reason="转司法调解")
    assert case.department.code == "D-JUS" and case.status == Status.DISPATCHED
    actions.start_case(staff=jus, case_id=case.pk)
    actions.handle_case(staff=jus, case_id=case.pk, result="调解完成")
    actions.close_case(staff=operator, case_id=case.pk)
    case = actions.reopen_case(staff=operator, case_id=case.pk, reason="居民反映问题复发")
    assert case.status == Status.REOPENED and case.closed_at is None and case.department is None


def test_a_duplicate_follows_its_original_and_its_reporter_hears_the_outcome(shangcheng):
    operator, jus = staff("shangcheng_operator"), handler("D-JUS")
    original = report()
    second = report(by="shangcheng_operator", source=Source.HOTLINE_12345)
    second = actions.link_duplicate(staff=operator, case_id=second.pk, original_id=original.pk)
    assert second.duplicate_of_id == original.pk and second.status == Status.MERGED and not second.is_open
    actions.accept_case(staff=operator, case_id=original.pk)
    actions.dispatch_case(staff=operator, case_id=original.pk)
    actions.start_case(staff=jus, case_id=original.pk)
    actions.handle_case(staff=jus, case_id=original.pk, result="已处理")
    actions.close_case(staff=operator, case_id=original.pk)
    second.refresh_from_db()
    assert second.status == Status.CLOSED and second.result == "已处理"
    assert second.events.filter(action="close").exists()


def test_the_outbox_waits_until_relayed(shangcheng):
    before = OutboxEvent.objects.filter(delivered_at__isnull=True).count()
    report()
    assert OutboxEvent.objects.filter(delivered_at__isnull=True).count() == before + 1
    heard = []
    assert relay(deliver=heard.append) == before + 1
    assert heard[-1].topic == "case.report"
    assert not OutboxEvent.objects.filter(delivered_at__isnull=True).exists()


def test_two_people_dispatching_at_once_exactly_one_wins(committed):
    with tenant_context(committed.shangcheng):
        case = report()
        operator = staff("shangcheng_operator")
        admin = staff("shangcheng_admin")
        actions.accept_case(staff=operator, case_id=case.pk)
        version = Case.objects.get(pk=case.pk).version
    results: list = []
    barrier = threading.Barrier(2)

    def act(actor, department):
        try:
            with tenant_context(committed.shangcheng), translation.override("en"):
                barrier.wait()
                actions.dispatch_case(staff=actor, case_id=case.pk, department=department, version=version)
                results.append("ok")
        except actions.CaseConflict as exc:
            results.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(operator, "D-JUS")),
               threading.Thread(target=act, args=(admin, "D-PSB"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(results, key=lambda r: r != "ok")[0] == "ok"
        assert results.count("ok") == 1 and "Someone else" in [r for r in results if r != "ok"][0]
        with tenant_context(committed.shangcheng):
            assert Case.objects.get(pk=case.pk).events.filter(action="dispatch").count() == 1
    finally:
        with tenant_context(committed.shangcheng):
            Notification.objects.filter(case_id=case.pk).delete()
            Case.objects.filter(pk=case.pk).delete()


def test_a_case_across_the_border_goes_to_the_other_county_as_a_linked_case(shangcheng, world):
    operator = staff("shangcheng_operator")
    case = report(by="shangcheng_operator", source=Source.HOTLINE_12345)
    with pytest.raises(ValidationError):
        actions.transfer_to_tenant(staff=operator, case_id=case.pk, division_code="330102", reason="x")  # itself
    with pytest.raises(Http404):
        actions.transfer_to_tenant(staff=staff("shangcheng_gridworker"), case_id=case.pk, division_code="330110",
                                   reason="在余杭区境内")
    case = actions.transfer_to_tenant(staff=operator, case_id=case.pk, division_code="330110",
                                      reason="问题点位于余杭区境内")
    assert case.status == Status.TRANSFERRED and case.transferred_to.startswith(world.yuhang.schema_name + ":")
    number = case.transferred_to.split(":", 1)[1]
    with tenant_context(world.yuhang):
        linked = Case.objects.get(number=number)
        assert linked.status == Status.REPORTED and linked.transferred_from == f"shangcheng:{case.number}"
        assert linked.number.startswith("330110-")
        assert linked.events.filter(action="report").count() == 1
    assert Case.objects.filter(number=number).count() == 0  # not in this county


def test_a_case_is_rated_once_whoever_rates_it(shangcheng):
    operator, jus = staff("shangcheng_operator"), handler("D-JUS")
    case = report()
    actions.accept_case(staff=operator, case_id=case.pk)
    actions.dispatch_case(staff=operator, case_id=case.pk)
    actions.start_case(staff=jus, case_id=case.pk)
    case = actions.handle_case(staff=jus, case_id=case.pk, result="已调解")
    with pytest.raises(Http404):  # the reporter's path needs the case's own token
        actions.rate_case(staff=None, case_id=case.pk, token="not-a-token", rating=3)
    actions.rate_case(staff=None, case_id=case.pk, token=case.token, rating=4)
    with pytest.raises(actions.CaseConflict, match="already rated"):
        actions.rate_case(staff=operator, case_id=case.pk, rating=2)
    assert Case.objects.get(pk=case.pk).rating == 4

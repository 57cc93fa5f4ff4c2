"""The deadline sweep and the lights: reminders to the right people once per phase,
overdue facts once, automatic escalation one level and once, a second run (or a
concurrent one) doing nothing more, lights in Python and SQL agreeing, and the sweep
as a Celery task in the schema it was sent from.

Deadlines are moved into the past with ``QuerySet.update`` rather than waited for."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone, translation
from django_tenants.utils import schema_context, tenant_context

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.cases import actions, lights
from civicgrid.platform.cases.calendar import Light
from civicgrid.platform.cases.models import Case, CaseEvent, Level, Source, Status
from civicgrid.platform.cases.sweep import sweep
from civicgrid.platform.cases.tasks import sweep_all_tenants, sweep_tenant
from civicgrid.platform.notifications.models import Notification, OutboxEvent
from civicgrid.platform.org.models import Department, OrgUnit

IN_G01 = {"latitude": 30.245, "longitude": 120.175}  # inside shangcheng's T01-C01-G01
PAST = timedelta(minutes=5)


def staff(username: str) -> StaffProfile:
    return StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department").get(
        user__username=username)


def member(username: str, role: str, *, unit: str = "", department: str = "") -> StaffProfile:
    if not StaffProfile.objects.filter(user__username=username).exists():
        create_staff_member(username=username, password="x" * 12, role=role,
                            scope_org_unit=OrgUnit.objects.get(code=unit) if unit else None,
                            scope_department=Department.objects.get(code=department) if department else None,
                            acting_user=None)
    return staff(username)


def report(*, at_county: bool = False, **extra) -> Case:
    """A grid worker's report starts in community T01-C01; a hotline report at the county."""
    values = {"category": "DSP-NEIGHBOUR", "title": "楼上漏水邻里争吵", "description": "两户因漏水争执",
              "source": Source.HOTLINE_12345 if at_county else Source.GRID_WORKER, **IN_G01, **extra}
    by = "shangcheng_operator" if at_county else "shangcheng_gridworker"
    return actions.report_case(staff=staff(by), **values)


def dispatched(case: Case, department: str = "D-JUS") -> Case:
    operator = staff("shangcheng_operator")
    actions.accept_case(staff=operator, case_id=case.pk)
    return actions.dispatch_case(staff=operator, case_id=case.pk, department=department)


def move(case: Case, **moments) -> Case:
    Case.objects.filter(pk=case.pk).update(**moments)
    return Case.objects.get(pk=case.pk)


def reminders(case: Case) -> set[str]:
    return set(Notification.objects.filter(case=case, topic="case.remind")
               .values_list("recipient__username", flat=True))


@pytest.fixture
def shangcheng(world):
    with tenant_context(world.shangcheng):
        member("sc_c01", StaffRole.COMMUNITY_OPERATOR, unit="T01-C01")
        member("sc_c02", StaffRole.COMMUNITY_OPERATOR, unit="T01-C02")
        member("sc_t01", StaffRole.TOWNSHIP_OPERATOR, unit="T01")
        member("sc_jus", StaffRole.DEPARTMENT_HANDLER, department="D-JUS")
        member("sc_psb", StaffRole.DEPARTMENT_HANDLER, department="D-PSB")
        sweep()  # anything other tests left committed goes first, so the counts below are this test's
        yield world


# Reminders -----------------------------------------------------------------------------------


def test_reminders_reach_the_people_who_must_act_once_per_phase(shangcheng):
    now = timezone.now()
    case = move(report(), accept_warn_at=now - PAST)  # near its accept deadline, not past it
    at_county = move(report(at_county=True), accept_warn_at=now - PAST)
    untouched = report()

    with translation.override("en"):
        result = sweep()
    assert result["reminded"] == 2 and result["overdue_accept"] == 0 and not result["skipped"]
    # Accept phase: the coordinators at the case's level whose area covers it.
    assert reminders(case) == {"sc_c01"}
    assert reminders(at_county) == {"shangcheng_operator"}
    assert reminders(untouched) == set()
    title = Notification.objects.get(case=case, topic="case.remind").title
    assert case.number in title and "acceptance" in title
    assert Case.objects.get(pk=case.pk).reminded_at is not None

    assert sweep()["reminded"] == 0
    assert Notification.objects.filter(case__in=[case, at_county], topic="case.remind").count() == 2

    # Dispatch starts the handling phase: a fresh reminder, to the department's handlers.
    case = dispatched(case)
    assert case.reminded_at is None
    move(case, handle_warn_at=timezone.now() - PAST)
    with translation.override("en"):
        assert sweep()["reminded"] == 1
    assert reminders(case) == {"sc_c01", "sc_jus"}
    assert Notification.objects.get(case=case, topic="case.remind", recipient__username="sc_jus").title == (
        f"Case {case.number} is close to its deadline for handling")
    assert sweep()["reminded"] == 0
    assert Notification.objects.filter(case=case, topic="case.remind").count() == 2


def test_a_case_already_late_is_reminded_as_overdue(shangcheng):
    now = timezone.now()
    case = move(report(at_county=True), accept_warn_at=now - 2 * PAST, accept_due=now - PAST)
    with translation.override("en"):
        sweep()
    assert Notification.objects.get(case=case, topic="case.remind").title == (
        f"Case {case.number} is overdue for acceptance")


# Overdue facts -------------------------------------------------------------------------------


def test_overdue_facts_are_recorded_once_with_timeline_and_outbox(shangcheng):
    now = timezone.now()
    waiting = move(report(at_county=True), accept_warn_at=now - 2 * PAST, accept_due=now - PAST)
    handling = dispatched(report(at_county=True))
    handling = move(handling, handle_warn_at=now - 2 * PAST, handle_due=now - PAST)
    on_time = dispatched(report(at_county=True))  # accepted and dispatched in time: nothing to record
    move(on_time, accept_due=now - PAST)
    versions = {c.pk: c.version for c in (waiting, handling, on_time)}
    audit_before = AuditEntry.objects.filter(action="case.sweep").count()

    result = sweep()
    assert (result["overdue_accept"], result["overdue_handle"]) == (1, 1)
    for case, phase in ((waiting, "accept"), (handling, "handle")):
        case.refresh_from_db()
        assert case.overdue_marks == [phase]
        assert case.version == versions[case.pk]  # a recorded fact is no user's change: no conflicts
        event = CaseEvent.objects.get(case=case, action="overdue")
        assert event.data == {"phase": phase} and event.actor is None and event.to_status == case.status
        outbox = OutboxEvent.objects.get(topic="case.overdue", payload__case_id=case.pk)
        assert outbox.payload["phase"] == phase and outbox.payload["schema"] == "shangcheng"
        assert outbox.payload["number"] == case.number and outbox.delivered_at is None
        # Where the case is travels with it: open lists are nudged without reading the case.
        assert outbox.payload["org_path"] == case.org_path
        assert outbox.payload["holding_department"] == case.department_id
    assert Case.objects.get(pk=on_time.pk).overdue_marks == []
    assert AuditEntry.objects.filter(action="case.sweep").count() == audit_before + 1

    again = sweep()
    assert {k: again[k] for k in ("reminded", "overdue_accept", "overdue_handle", "escalated")} == {
        "reminded": 0, "overdue_accept": 0, "overdue_handle": 0, "escalated": 0}
    assert CaseEvent.objects.filter(case__in=[waiting, handling], action="overdue").count() == 2
    assert OutboxEvent.objects.filter(topic="case.overdue", payload__case_id__in=[waiting.pk, handling.pk]).count() == 2
    assert Case.objects.get(pk=waiting.pk).overdue_marks == ["accept"]
    assert AuditEntry.objects.filter(action="case.sweep").count() == audit_before + 1  # a no-op leaves no trace

    # Late in both phases: both facts, each once.
    dispatched(waiting)
    move(waiting, handle_due=timezone.now() - PAST)
    assert sweep()["overdue_handle"] == 1
    assert Case.objects.get(pk=waiting.pk).overdue_marks == ["accept", "handle"]


# Automatic escalation ------------------------------------------------------------------------


def test_a_community_case_not_taken_up_in_time_goes_to_the_township_once(shangcheng):
    now = timezone.now()
    case = move(report(), accept_warn_at=now - 2 * PAST, accept_due=now - PAST)
    at_county = move(report(at_county=True), accept_due=now - PAST)
    accepted = report()
    actions.accept_case(staff=staff("shangcheng_operator"), case_id=accepted.pk)
    move(accepted, accept_due=now - PAST)  # accepted (in time): its accept clock has stopped

    result = sweep()
    assert result["escalated"] == 1 and result["overdue_accept"] == 2
    case.refresh_from_db()
    assert (case.level, case.status) == (Level.TOWNSHIP, Status.ESCALATED)
    event = CaseEvent.objects.get(case=case, action="escalate")
    assert event.data["automatic"] is True and event.actor is None
    assert (event.data["from_level"], event.data["to_level"]) == (Level.COMMUNITY, Level.TOWNSHIP)
    assert Notification.objects.filter(case=case, topic="case.escalate", recipient__username="sc_t01").exists()
    assert Case.objects.get(pk=at_county.pk).level == Level.COUNTY
    assert Case.objects.get(pk=accepted.pk).level == Level.COMMUNITY

    # The township just got it: the missed deadline does not push it on to the county.
    assert sweep()["escalated"] == 0
    assert Case.objects.get(pk=case.pk).level == Level.TOWNSHIP
    assert CaseEvent.objects.filter(case=case, action="escalate").count() == 1


def test_a_case_escalated_by_hand_before_its_deadline_goes_on_up_when_the_deadline_passes(shangcheng):
    case = actions.escalate_case(staff=staff("sc_c01"), case_id=report().pk, reason="社区调解不成")
    by_hand = CaseEvent.objects.get(case=case, action="escalate")
    move(case, accept_due=by_hand.created_at + timedelta(microseconds=1))

    assert sweep()["escalated"] == 1
    assert Case.objects.get(pk=case.pk).level == Level.COUNTY
    assert sweep()["escalated"] == 0


def test_escalation_waits_the_configured_working_hours(shangcheng, settings):
    settings.CIVICGRID_AUTO_ESCALATE_AFTER_HOURS = 8
    now = timezone.now()
    just_late = move(report(), accept_due=now - PAST)
    long_late = move(report(), accept_due=now - timedelta(days=21))

    result = sweep()
    assert result["escalated"] == 1 and result["overdue_accept"] == 2
    assert Case.objects.get(pk=just_late.pk).level == Level.COMMUNITY
    assert Case.objects.get(pk=long_late.pk).level == Level.TOWNSHIP


def test_escalations_per_run_are_capped_and_the_rest_wait(shangcheng, monkeypatch):
    from civicgrid.platform.cases import sweep as sweep_module

    monkeypatch.setattr(sweep_module, "ESCALATIONS_PER_RUN", 2)
    now = timezone.now()
    cases = [move(report(), accept_due=now - timedelta(minutes=n + 1)) for n in range(3)]
    first = sweep()
    assert (first["escalated"], first["escalations_left"]) == (2, 1)
    # Oldest deadline first.
    assert [Case.objects.get(pk=c.pk).level for c in cases] == [Level.COMMUNITY, Level.TOWNSHIP, Level.TOWNSHIP]
    second = sweep()
    assert (second["escalated"], second["escalations_left"]) == (1, 0)
    assert sweep()["escalated"] == 0


# Concurrency ---------------------------------------------------------------------------------


def test_a_second_sweep_while_one_holds_the_schema_does_nothing(shangcheng):
    case = move(report(at_county=True), accept_due=timezone.now() - PAST)
    # This test's transaction now holds shangcheng's sweep lock until it ends.
    assert sweep()["overdue_accept"] == 1
    results = []

    def other_worker():
        try:
            with tenant_context(shangcheng.shangcheng):
                results.append(sweep())
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    thread.join()
    assert results[0]["skipped"] is True and results[0]["overdue_accept"] == 0
    assert CaseEvent.objects.filter(case=case, action="overdue").count() == 1

    def other_county():
        try:
            with tenant_context(shangcheng.yuhang):
                results.append(sweep())
        finally:
            connection.close()

    thread = threading.Thread(target=other_county)  # the lock is per schema
    thread.start()
    thread.join()
    assert results[1]["skipped"] is False and results[1]["schema"] == "yuhang"


# Lights --------------------------------------------------------------------------------------


def test_lights_of_the_accept_phase(shangcheng):
    now = timezone.now()
    case = report()
    assert lights.phase_of(case) == "accept" and lights.light_of(case, now) == Light.GREEN
    assert lights.light_of(move(case, accept_warn_at=now - PAST), now) == Light.YELLOW
    assert lights.light_of(move(case, accept_due=now - timedelta(seconds=1)), now) == Light.RED
    # Accepted in time, then waiting for dispatch: the accept clock stopped green.
    accepted = actions.accept_case(staff=staff("shangcheng_operator"), case_id=report().pk)
    assert lights.light_of(accepted, now + timedelta(days=30)) == Light.GREEN
    # Escalated before anyone took it up: the accept clock runs on.
    escalated = actions.escalate_case(staff=staff("sc_c01"), case_id=report().pk, reason="社区调解不成")
    assert lights.light_of(escalated, now + timedelta(days=30)) == Light.RED


def test_lights_of_the_handling_phase(shangcheng):
    now = timezone.now()
    case = dispatched(report(at_county=True))
    assert lights.phase_of(case) == "handle" and lights.light_of(case, now) == Light.GREEN
    case = move(case, accept_due=now - PAST)  # the accept clock no longer counts
    assert lights.light_of(case, now) == Light.GREEN
    assert lights.light_of(move(case, handle_warn_at=now - PAST), now) == Light.YELLOW
    assert lights.light_of(move(case, handle_due=now - timedelta(seconds=1)), now) == Light.RED


def finish(case: Case) -> Case:
    handler, operator = staff("sc_jus"), staff("shangcheng_operator")
    actions.start_case(staff=handler, case_id=case.pk)
    actions.handle_case(staff=handler, case_id=case.pk, result="已调解")
    return actions.close_case(staff=operator, case_id=case.pk)


def test_a_closed_case_keeps_the_light_it_finished_with(shangcheng):
    much_later = timezone.now() + timedelta(days=365)
    on_time = finish(dispatched(report(at_county=True)))
    assert on_time.status == Status.CLOSED
    assert lights.light_of(on_time, much_later) == Light.GREEN
    late = finish(dispatched(report(at_county=True)))
    late = move(late, handle_warn_at=late.handled_at - 2 * PAST, handle_due=late.handled_at - PAST)
    assert lights.light_of(late, much_later) == Light.RED
    assert lights.light_of(late, late.handled_at - 3 * PAST) == Light.RED  # "now" plays no part once finished


def test_with_lights_agrees_with_light_of_for_a_mix(shangcheng):
    now = timezone.now()
    made = [
        report(),
        move(report(), accept_warn_at=now - PAST),
        move(report(at_county=True), accept_warn_at=now - 2 * PAST, accept_due=now - PAST),
        move(report(), accept_warn_at=None),
        dispatched(report()),
        move(dispatched(report()), handle_warn_at=now - PAST),
        move(dispatched(report(at_county=True)), handle_due=now - PAST),
        finish(dispatched(report(at_county=True))),
    ]
    late = finish(dispatched(report(at_county=True)))
    made.append(move(late, handle_due=late.handled_at - PAST))
    returned = dispatched(report(at_county=True))
    made.append(actions.return_case(staff=staff("sc_jus"), case_id=returned.pk, reason="不属本部门"))
    rejected = report(at_county=True)
    made.append(actions.reject_case(staff=staff("shangcheng_operator"), case_id=rejected.pk, reason="不是事件"))
    pks = [c.pk for c in made]

    for moment in (now, now + timedelta(days=1), now + timedelta(days=90)):
        expected = {c.pk: lights.light_of(c, moment).value for c in Case.objects.filter(pk__in=pks)}
        got = dict(lights.with_lights(Case.objects.filter(pk__in=pks), moment).values_list("pk", "light"))
        assert got == expected, moment
    expected = {c.pk: lights.light_of(c, now).value for c in Case.objects.filter(pk__in=pks)}
    assert set(expected.values()) == {"green", "yellow", "red"}
    for colour in ("green", "yellow", "red"):
        filtered = lights.with_lights(Case.objects.filter(pk__in=pks), now).filter(light=colour)
        assert set(filtered.values_list("pk", flat=True)) == {pk for pk, c in expected.items() if c == colour}


# Tasks ---------------------------------------------------------------------------------------


def test_the_task_sweeps_the_schema_it_runs_in(shangcheng):
    case = move(report(at_county=True), accept_due=timezone.now() - PAST)
    # Run here, eagerly, with the schema header the task would carry to a worker.
    result = sweep_tenant.apply().get()
    assert result["schema"] == "shangcheng" and result["overdue_accept"] == 1
    with tenant_context(shangcheng.shangcheng):
        assert Case.objects.get(pk=case.pk).overdue_marks == ["accept"]
    with schema_context("public"), pytest.raises(RuntimeError, match="tenant schema"):
        sweep_tenant.apply().get()


@pytest.mark.slow
def test_beat_fans_out_one_sweep_per_tenant_to_a_real_worker(committed, celery_worker):
    with tenant_context(committed.shangcheng):
        case = move(report(at_county=True), accept_due=timezone.now() - PAST)
    try:
        with tenant_context(committed.yuhang):
            assert sweep_tenant.delay().get(timeout=30)["schema"] == "yuhang"
        with tenant_context(committed.shangcheng):
            result = sweep_tenant.delay().get(timeout=30)
            assert result["schema"] == "shangcheng" and result["overdue_accept"] >= 1
            assert Case.objects.get(pk=case.pk).overdue_marks == ["accept"]
            later = move(report(at_county=True), accept_due=timezone.now() - PAST)
        # Beat sends the fan-out from public; each tenant's sweep then runs in its own schema.
        assert sweep_all_tenants.delay().get(timeout=30) >= 3
        with tenant_context(committed.shangcheng):
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not Case.objects.get(pk=later.pk).overdue_marks:
                time.sleep(0.2)
            assert Case.objects.get(pk=later.pk).overdue_marks == ["accept"]
            assert CaseEvent.objects.filter(case__in=[case, later], action="overdue").count() == 2
    finally:
        with tenant_context(committed.shangcheng):
            made = Case.objects.filter(title="楼上漏水邻里争吵", reported_at__gte=case.reported_at)
            OutboxEvent.objects.filter(payload__case_id__in=list(made.values_list("pk", flat=True))).delete()
            made.delete()

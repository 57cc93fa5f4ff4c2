"""The zone: what lies within a school's radius (the boundary to the metre), and the whole
loop of a case reported inside it: raised one urgency level, linked to the school, shown on
the school's page, then handled and closed, and gone from the zone."""

from __future__ import annotations

import inspect
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import tenant_context

import civicgrid.plugins.builtin.school_surroundings.hooks as module_hooks
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.cases.models import Case, CaseEvent, Status, Urgency
from civicgrid.platform.notifications.outbox import relay
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.registry import actions as registry_actions
from civicgrid.platform.registry.models import Place
from civicgrid.plugins.builtin.school_surroundings import actions, selectors
from civicgrid.plugins.builtin.school_surroundings.geometry import bounding_box, distance_m
from civicgrid.plugins.builtin.school_surroundings.models import ZoneCase
from civicgrid.plugins.hookspecs import CivicGridSpec
from tests.platform.cases.test_workflow import handler

from .helpers import SCHOOL_AT, client, make_school, point_at, staff, switch_on


@pytest.fixture
def on(world):
    switch_on(world)
    with tenant_context(world.shangcheng), translation.override("en"):
        yield world


def place(name: str, at, kind=Place.Kind.INTERNET_CAFE) -> Place:
    return registry_actions.create_place(staff=staff("shangcheng_admin"), grid=OrgUnit.objects.get(code="T01-C01-G01"),
                                         name=name, kind=kind, address="某路", latitude=Decimal(f"{at[0]:.6f}"),
                                         longitude=Decimal(f"{at[1]:.6f}"))


def report_at(at, title="校门口流动摊贩", category="SCHOOL-VENDORS", by="shangcheng_gridworker") -> Case:
    return case_actions.report_case(staff=staff(by), category=category, title=title, latitude=at[0],
                                    longitude=at[1])


def test_every_hook_function_is_a_real_hook():
    names = {name for name, _ in inspect.getmembers(module_hooks, callable) if name.startswith("civicgrid_")}
    assert names and names <= set(vars(CivicGridSpec))


def test_the_geometry_agrees_with_itself():
    for bearing in (0, 45, 90, 135, 180, 270):
        for metres in (1, 150, 200, 1999):
            lat, lng = point_at(metres, bearing)
            assert abs(distance_m(*SCHOOL_AT, lat, lng) - metres) < 0.2
            south, north, west, east = bounding_box(*SCHOOL_AT, metres)
            assert south <= lat <= north and west <= lng <= east


def test_the_zone_holds_what_lies_within_the_radius_to_the_metre(on):
    school = make_school()
    inside = [place(f"内{bearing}", point_at(199, bearing)) for bearing in (0, 90, 180, 270, 45)]
    outside = [place(f"外{bearing}", point_at(201, bearing)) for bearing in (0, 90, 180, 270, 45)]
    place("无坐标", SCHOOL_AT).__class__.objects.filter(name="无坐标").update(latitude=None, longitude=None)
    near = report_at(point_at(198, 30), title="内")
    far = report_at(point_at(202, 30), title="外")
    closed_case = report_at(point_at(50, 0), title="已关闭")
    rejected = report_at(point_at(60, 0), title="不予受理")
    case_actions.reject_case(staff=staff("shangcheng_operator"), case_id=rejected.pk, reason="重复")
    Case.objects.filter(pk=closed_case.pk).update(status=Status.CLOSED)
    handled = report_at(point_at(70, 0), title="已处置待结案")
    Case.objects.filter(pk=handled.pk).update(status=Status.HANDLED)
    case_actions.report_case(staff=staff("shangcheng_gridworker"), category="SCHOOL-VENDORS", title="无位置",
                             address="幸福小学附近")

    zone = selectors.zone_contents(school)
    assert {p.pk for p in zone.places} == {p.pk for p in inside}
    assert all(199 - 1 <= p.distance_m <= 199 + 1 for p in zone.places)
    assert not {p.pk for p in zone.places} & {p.pk for p in outside}
    assert [h.pk for h in zone.hazards] == [handled.pk, near.pk]  # nearest first
    assert far.pk not in {h.pk for h in zone.hazards}

    # The radius is the county admin's: a wider zone takes in what lay just outside.
    actions.update_school(staff=staff("shangcheng_admin"), school=school, changes={"radius_m": 205})
    school.refresh_from_db()
    zone = selectors.zone_contents(school)
    assert {p.pk for p in zone.places} == {p.pk for p in inside + outside}
    assert far.pk in {h.pk for h in zone.hazards}
    # A scoped member sees only what is theirs: another township's operator sees no case here.
    from .helpers import member

    other = member("sc_township_t02", "township_operator", "T02")
    assert selectors.zone_contents(school, staff=other).hazards == []
    assert selectors.zone_contents(school, staff=other).places == []


def test_a_case_inside_a_zone_is_raised_shown_handled_and_closed(on):
    world = on
    school = make_school()
    other_school = make_school(code="T-S002", at=point_at(300, 90), name="隔壁幼儿园")  # zones overlap
    case = report_at(point_at(120, 90))
    outside = report_at(point_at(900, 0), title="远处摊贩")
    assert case.urgency == Urgency.NORMAL and not ZoneCase.objects.exists()  # nothing inside the transaction
    relay()  # what the worker does after commit
    case.refresh_from_db()
    assert case.urgency == Urgency.URGENT and case.version == 2
    raised = CaseEvent.objects.get(case=case, action="raise_urgency")
    assert raised.data == {"from_urgency": "normal", "to_urgency": "urgent"} and "测试小学" in raised.comment
    assert AuditEntry.objects.filter(action="case.raise_urgency", target_id=str(case.pk)).exists()
    assert set(ZoneCase.objects.filter(case=case).values_list("school__code", flat=True)) == {"T-S001", "T-S002"}
    assert ZoneCase.objects.get(case=case, school=school).raised_to == "urgent"  # the nearest school raised it
    assert Case.objects.get(pk=outside.pk).urgency == Urgency.NORMAL and not ZoneCase.objects.filter(
        case=outside).exists()
    # Delivered again (a worker died mid-batch): raised once only.
    actions.note_case_in_zone(case_id=case.pk)
    assert Case.objects.get(pk=case.pk).urgency == Urgency.URGENT
    assert CaseEvent.objects.filter(case=case, action="raise_urgency").count() == 1

    page = client(world, "shangcheng_operator").get(f"/p/school_surroundings/schools/{school.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-case="{case.number}"' in html and 'data-urgency="urgent"' in html and "raised" in html
    assert outside.number not in html
    assert other_school.pk  # its page lists the case too, not raised again
    assert case.number in client(world, "shangcheng_operator").get(
        f"/p/school_surroundings/schools/{other_school.pk}/").content.decode()

    operator, psb = staff("shangcheng_operator"), handler("D-SAMR")
    case = case_actions.accept_case(staff=operator, case_id=case.pk)
    case = case_actions.dispatch_case(staff=operator, case_id=case.pk)
    assert case.department.code == "D-SAMR"  # the category's department
    case = case_actions.start_case(staff=psb, case_id=case.pk)
    case = case_actions.handle_case(staff=psb, case_id=case.pk, result="已劝离摊贩")
    assert case.pk in {h.pk for h in selectors.zone_contents(school).hazards}  # waits for the closing visit
    case = case_actions.close_case(staff=operator, case_id=case.pk)
    relay()
    assert case.status == Status.CLOSED
    assert case.pk not in {h.pk for h in selectors.zone_contents(school).hazards}
    assert case.number not in client(world, "shangcheng_operator").get(
        f"/p/school_surroundings/schools/{school.pk}/").content.decode()


def test_raise_urgency_goes_one_level_and_stops_at_critical(on):
    case = report_at(point_at(5000, 0), category="SCHOOL-VENDORS")
    due = case.accept_due
    case = case_actions.raise_urgency(case_id=case.pk, reason="测试")
    assert case.urgency == Urgency.URGENT and case.accept_due < due  # the shorter clock
    case = case_actions.raise_urgency(case_id=case.pk, reason="测试")
    assert case.urgency == Urgency.CRITICAL
    version = case.version
    case = case_actions.raise_urgency(case_id=case.pk, reason="测试")
    assert case.urgency == Urgency.CRITICAL and case.version == version  # nothing higher: no step
    with pytest.raises(ValidationError):
        case_actions.raise_urgency(case_id=case.pk, reason="  ")

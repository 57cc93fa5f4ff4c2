"""The catalog: county admins edit categories, routing rules and the calendar's local
overrides through the actions, the console and the API; routing rules and overrides
change what new cases get; everyone else, and every other county, gets 404."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.test import Client
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.cases import actions, deadlines
from civicgrid.platform.cases import catalog_actions as catalog
from civicgrid.platform.cases.models import CalendarOverride, Category, RoutingRule

from .test_workflow import report, staff

ROUTES_COVERED = {
    "catalog-tree": "test_pages_are_for_county_admins_and_operators_of_this_county",
    "catalog-calendar": "test_pages_are_for_county_admins_and_operators_of_this_county",
    "catalog-category-new": "test_console_forms_are_for_county_admins_of_this_county",
    "catalog-category-edit": "test_console_forms_are_for_county_admins_of_this_county",
    "catalog-category-active": "test_console_forms_are_for_county_admins_of_this_county",
    "catalog-rule-set": "test_console_forms_are_for_county_admins_of_this_county",
    "catalog-rule-delete": "test_console_forms_are_for_county_admins_of_this_county",
    "catalog-calendar-delete": "test_console_forms_are_for_county_admins_of_this_county",
    "api-catalog-categories": "test_the_api_reads_for_operators_and_writes_for_admins_of_this_county",
    "api-catalog-category": "test_the_api_reads_for_operators_and_writes_for_admins_of_this_county",
    "api-catalog-routing-rules": "test_the_api_reads_for_operators_and_writes_for_admins_of_this_county",
    "api-catalog-routing-rule": "test_the_api_reads_for_operators_and_writes_for_admins_of_this_county",
    "api-catalog-calendar-overrides": "test_the_api_reads_for_operators_and_writes_for_admins_of_this_county",
    "api-catalog-calendar-override": "test_the_api_reads_for_operators_and_writes_for_admins_of_this_county",
}

SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"
IN_T02 = {"latitude": 30.245, "longitude": 120.195}  # T02-C01-G01; report()'s default lies in T01
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def shangcheng(world):
    with tenant_context(world.shangcheng), translation.override("en"):
        deadlines.forget_overrides()
        yield world
    deadlines.forget_overrides()


def signed_in(world, username, host=SHANGCHENG):
    client = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.user(username))
    return client


def audited(action: str) -> AuditEntry:
    return AuditEntry.objects.filter(action=action).latest("id")


def refused(call, **kwargs) -> dict:
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    return caught.value.message_dict


# --- actions ------------------------------------------------------------------------


def test_county_admins_create_edit_and_switch_categories(shangcheng):
    admin = staff("shangcheng_admin")
    group = catalog.create_category(staff=admin, code="LOCAL", name="本地事项", name_en="Local matters")
    assert group.is_group and audited("category.create").target_id == str(group.pk)
    leaf = catalog.create_category(staff=admin, code="LOCAL-STALL", name="占道摆摊", parent="LOCAL",
                                   accept_hours="1.5", handle_hours="15", urgency="urgent",
                                   department_code="D-SAMR", sort_order=3)
    assert (leaf.parent, leaf.accept_hours, leaf.handle_hours, leaf.department_code) == (
        group, Decimal("1.50"), Decimal("15.00"), "D-SAMR")
    entry = audited("category.create")
    assert entry.actor_label == "shangcheng_admin" and entry.data["values"]["parent"] == "LOCAL"

    leaf = catalog.update_category(staff=admin, category="LOCAL-STALL", handle_hours="22.5", name="占道经营")
    assert leaf.handle_hours == Decimal("22.50") and leaf.name == "占道经营" and leaf.accept_hours == Decimal("1.50")
    assert audited("category.update").data["changes"] == {"name": ["占道摆摊", "占道经营"],
                                                          "handle_hours": ["15.00", "22.50"]}

    # A group goes off only after its leaves; a leaf comes back on only under an active group.
    assert refused(catalog.deactivate_category, staff=admin, category="LOCAL") == {"is_active": [
        "Switch off the categories in this group first: cases are still filed under them."]}
    catalog.deactivate_category(staff=admin, category="LOCAL-STALL")
    catalog.deactivate_category(staff=admin, category="LOCAL")
    assert not Category.objects.get(code="LOCAL").is_active
    assert refused(catalog.activate_category, staff=admin, category="LOCAL-STALL") == {"is_active": [
        "Switch its group on first."]}
    catalog.activate_category(staff=admin, category="LOCAL")
    catalog.activate_category(staff=admin, category="LOCAL-STALL")
    assert Category.objects.filter(code__startswith="LOCAL", is_active=True).count() == 2
    assert AuditEntry.objects.filter(action="category.update", target_id=str(leaf.pk)).count() == 3


def test_refused_category_inputs_say_what_is_wrong(shangcheng):
    admin = staff("shangcheng_admin")
    errors = refused(catalog.create_category, staff=admin, code="dsp neighbour", name="", parent="DSP-NEIGHBOUR",
                     accept_hours="50", handle_hours="40.001", urgency="soon", department_code="D-NONE",
                     sort_order="x")
    assert errors == {
        "code": ["A code is up to 40 upper-case letters, digits and hyphens, such as DSP-NEIGHBOUR."],
        "name": ["Give the category a name."],
        "parent": ["A category can only be filed under a group (a category without a group)."],
        "handle_hours": ["Working hours are a number above 0 and at most 2000, with at most two decimals."],
        "urgency": ["Choose normal, urgent or critical."],
        "department_code": ["There is no active department with the code D-NONE."],
        "sort_order": ["The order is a whole number from 0 to 1000000."],
    }
    assert refused(catalog.create_category, staff=admin, code="DSP-NEIGHBOUR", name="x", parent="DSP") == {
        "code": ["There is already a category with the code DSP-NEIGHBOUR."]}
    assert refused(catalog.create_category, staff=admin, code="G2", name="组", department_code="D-JUS") == {
        "department_code": ["A group has no department: its categories each name their own."]}
    assert refused(catalog.update_category, staff=admin, category="DSP-NEIGHBOUR", accept_hours="0",
                   handle_hours="2001") == {
        "accept_hours": ["Working hours are a number above 0 and at most 2000, with at most two decimals."],
        "handle_hours": ["Working hours are a number above 0 and at most 2000, with at most two decimals."]}
    assert refused(catalog.update_category, staff=admin, category="DSP-NEIGHBOUR", accept_hours="41") == {
        "accept_hours": ["Accepting cannot take longer than handling."]}
    assert refused(catalog.update_category, staff=admin, category="DSP", parent="HAZ") == {
        "parent": ["This group has categories under it, so it cannot go under another group."]}
    assert refused(catalog.update_category, staff=admin, category="DSP", code="X") == {
        "code": ["This field cannot be changed."]}
    with pytest.raises(Http404):
        catalog.update_category(staff=admin, category="NO-SUCH", name="x")
    assert Category.objects.get(code="DSP-NEIGHBOUR").accept_hours == Decimal("2.00")


def test_only_county_admins_change_the_catalog(shangcheng):
    category = Category.objects.get(code="DSP-NEIGHBOUR")
    before = AuditEntry.objects.count()
    for username in ("shangcheng_operator", "shangcheng_gridworker"):
        someone = staff(username)
        for call, kwargs in [
            (catalog.create_category, {"code": "X", "name": "x"}),
            (catalog.update_category, {"category": "DSP-NEIGHBOUR", "name": "x"}),
            (catalog.deactivate_category, {"category": "DSP-NEIGHBOUR"}),
            (catalog.set_routing_rule, {"category": "DSP-NEIGHBOUR", "area_code": None, "department_code": "D-PSB"}),
            (catalog.set_calendar_override, {"day": "2026-12-01", "is_working": False}),
            (catalog.delete_calendar_override, {"day": "2026-12-01"}),
            (catalog.delete_routing_rule, {"rule_id": 1}),
        ]:
            with pytest.raises(Http404):
                call(staff=someone, **kwargs)
    assert AuditEntry.objects.count() == before
    assert Category.objects.get(pk=category.pk).name == category.name and not RoutingRule.objects.exists()


# --- routing rules ------------------------------------------------------------------


def test_a_township_rule_routes_its_cases_and_the_county_rule_the_rest(shangcheng):
    admin, operator = staff("shangcheng_admin"), staff("shangcheng_operator")
    township_rule = catalog.set_routing_rule(staff=admin, category="DSP-NEIGHBOUR", area_code="T01",
                                             department_code="D-PSB")
    assert audited("routing_rule.set").data == {"category": "DSP-NEIGHBOUR", "area": "T01",
                                                "department": ["", "D-PSB"]}
    catalog.set_routing_rule(staff=admin, category="DSP-NEIGHBOUR", area_code="", department_code="D-SAMR")

    def dispatched(**where):
        case = report(**where)
        actions.accept_case(staff=operator, case_id=case.pk)
        return actions.dispatch_case(staff=operator, case_id=case.pk).department.code

    assert dispatched() == "D-PSB"  # T01-C01-G01
    assert dispatched(**IN_T02) == "D-SAMR"

    # Replacing keeps one rule per area; deleting the township rule hands T01 to the county rule.
    catalog.set_routing_rule(staff=admin, category="DSP-NEIGHBOUR", area_code="T01", department_code="D-FIRE")
    assert RoutingRule.objects.filter(category__code="DSP-NEIGHBOUR").count() == 2
    assert audited("routing_rule.set").data["department"] == ["D-PSB", "D-FIRE"]
    catalog.delete_routing_rule(staff=admin, rule_id=township_rule.pk)
    assert audited("routing_rule.delete").data["area"] == "T01"
    assert dispatched() == "D-SAMR"

    assert refused(catalog.set_routing_rule, staff=admin, category="DSP", area_code="NOWHERE",
                   department_code="") == {
        "category": ["Routing rules belong to categories cases are filed under, not to groups."],
        "area": ["There is no township, community or grid with the code NOWHERE."],
        "department": ["There is no active department with the code ."]}


# --- the calendar -------------------------------------------------------------------


def test_a_local_rest_day_moves_new_deadlines_and_is_refused_too_far_out(shangcheng):
    admin = staff("shangcheng_admin")
    category = Category.objects.get(code="DSP-NEIGHBOUR")  # 2 working hours to accept
    monday_morning = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
    assert deadlines.due(category, "accept", "normal", monday_morning, deadlines.tenant_calendar()) == datetime(
        2026, 11, 30, 11, 0, tzinfo=SHANGHAI)

    catalog.set_calendar_override(staff=admin, day="2026-11-30", is_working="false", note="区运动会")
    entry = audited("calendar_override.set")
    assert entry.data == {"day": "2026-11-30", "is_working": False, "note": "区运动会", "before": None}
    # The calendar this process holds forgot the old overrides at once.
    assert deadlines.due(category, "accept", "normal", monday_morning, deadlines.tenant_calendar()) == datetime(
        2026, 12, 1, 10, 30, tzinfo=SHANGHAI)

    catalog.delete_calendar_override(staff=admin, day=date(2026, 11, 30))
    assert not CalendarOverride.objects.exists() and audited("calendar_override.delete")
    assert deadlines.due(category, "accept", "normal", monday_morning, deadlines.tenant_calendar()).day == 30

    too_far = timezone.localdate() + timedelta(days=800)
    assert refused(catalog.set_calendar_override, staff=admin, day=too_far, is_working=True) == {
        "day": ["Choose a day within two years of today."]}
    assert refused(catalog.set_calendar_override, staff=admin, day="30/11/2026", is_working="perhaps",
                   note="x" * 201) == {
        "day": ["Give the day as YYYY-MM-DD."], "is_working": ["Answer yes or no."],
        "note": ["At most 200 characters."]}
    with pytest.raises(Http404):
        catalog.delete_calendar_override(staff=admin, day="2026-11-30")


def test_a_reported_case_gets_its_deadline_on_the_county_calendar(shangcheng):
    admin = staff("shangcheng_admin")
    today = timezone.localdate()
    # Every day of the next week a rest day: a case reported now cannot be due before they pass.
    for offset in range(0, 8):
        catalog.set_calendar_override(staff=admin, day=today + timedelta(days=offset), is_working=False)
    case = report()
    assert timezone.localtime(case.accept_due, SHANGHAI).date() >= today + timedelta(days=8)


# --- pages --------------------------------------------------------------------------


def test_pages_are_for_county_admins_and_operators_of_this_county(shangcheng):
    catalog.set_routing_rule(staff=staff("shangcheng_admin"), category="DSP-NEIGHBOUR", area_code="T01",
                             department_code="D-PSB")
    admin, operator = signed_in(shangcheng, "shangcheng_admin"), signed_in(shangcheng, "shangcheng_operator")
    page = admin.get("/categories/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-code="DSP-NEIGHBOUR"' in html and "D-PSB" in html and "(5 d)" in html
    assert "/categories/new/" in html
    seen = operator.get("/categories/")
    assert seen.status_code == 200 and 'data-code="DSP-NEIGHBOUR"' in seen.content.decode()
    assert "/categories/DSP-NEIGHBOUR/" not in seen.content.decode()

    calendar = admin.get("/categories/calendar/", {"start": "2026-12-28"})
    assert calendar.status_code == 200
    html = calendar.content.decode()
    assert 'data-day="2026-12-28" data-source="official"' in html
    assert 'data-day="2027-01-04" data-source="weekday rule"' in html
    assert "Assumed Monday to Friday (holidays not yet published)" in html
    assert operator.get("/categories/calendar/").status_code == 200

    for path in ("/categories/", "/categories/calendar/"):
        assert signed_in(shangcheng, "shangcheng_gridworker").get(path).status_code == 404
        assert signed_in(shangcheng, "yuhang_admin", host=SHANGCHENG).get(path).status_code == 404
        assert signed_in(shangcheng, "shangcheng_admin", host=YUHANG).get(path).status_code == 404


def test_console_forms_are_for_county_admins_of_this_county(shangcheng):
    admin = signed_in(shangcheng, "shangcheng_admin")
    with tenant_context(shangcheng.shangcheng):
        rule = catalog.set_routing_rule(staff=staff("shangcheng_admin"), category="DSP-NEIGHBOUR", area_code="T01",
                                        department_code="D-PSB")
        catalog.set_calendar_override(staff=staff("shangcheng_admin"), day="2026-12-01", is_working=False)
    posts = [
        ("/categories/new/", {"code": "LOCAL", "name": "本地", "accept_hours": "2", "handle_hours": "40",
                              "urgency": "normal", "sort_order": "0", "is_active": "on"}),
        ("/categories/DSP-NEIGHBOUR/", {"name": "邻里", "parent": "DSP", "accept_hours": "2",
                                        "handle_hours": "37.5", "urgency": "normal", "department_code": "D-JUS",
                                        "sort_order": "0", "is_active": "on"}),
        ("/categories/DSP-NEIGHBOUR/rules/", {"area": "T02", "department": "D-SAMR"}),
        (f"/categories/rules/{rule.pk}/delete/", {}),
        ("/categories/DSP-RENTAL/active/", {"active": "false"}),
        ("/categories/calendar/", {"day": "2026-12-02", "is_working": "true", "note": "调休"}),
        ("/categories/calendar/2026-12-01/delete/", {}),
    ]
    outsiders = [signed_in(shangcheng, "shangcheng_operator"), signed_in(shangcheng, "shangcheng_gridworker"),
                 signed_in(shangcheng, "yuhang_admin"), signed_in(shangcheng, "shangcheng_admin", host=YUHANG)]
    for path, data in posts:
        for outsider in outsiders:
            assert outsider.post(path, data).status_code == 404, path
    for path in ("/categories/new/", "/categories/DSP-NEIGHBOUR/"):
        for outsider in outsiders:
            assert outsider.get(path).status_code == 404
    with tenant_context(shangcheng.shangcheng):
        assert not Category.objects.filter(code="LOCAL").exists()
        assert Category.objects.get(code="DSP-NEIGHBOUR").handle_hours == Decimal("37.50")
        assert list(RoutingRule.objects.values_list("area__code", flat=True)) == ["T01"]
        assert list(CalendarOverride.objects.values_list("day", flat=True)) == [date(2026, 12, 1)]

    assert admin.get("/categories/DSP-NEIGHBOUR/").status_code == 200
    for path, data in posts:
        response = admin.post(path, data)
        assert response.status_code == 302, (path, response.content.decode()[:3000])
    with tenant_context(shangcheng.shangcheng):
        assert Category.objects.get(code="LOCAL").is_group
        assert Category.objects.get(code="DSP-NEIGHBOUR").name == "邻里"
        assert list(RoutingRule.objects.values_list("area__code", "department__code")) == [("T02", "D-SAMR")]
        assert not Category.objects.get(code="DSP-RENTAL").is_active
        assert list(CalendarOverride.objects.values_list("day", "is_working", "note")) == [
            (date(2026, 12, 2), True, "调休")]

    # A refused form comes back with the action's words beside the field.
    bad = admin.post("/categories/new/", {"code": "lower", "name": "x", "accept_hours": "2", "handle_hours": "1",
                                          "urgency": "normal"})
    assert bad.status_code == 200
    assert "A code is up to 40 upper-case letters" in bad.content.decode()
    assert "Accepting cannot take longer than handling." in bad.content.decode()


# --- API ----------------------------------------------------------------------------


def test_the_api_reads_for_operators_and_writes_for_admins_of_this_county(shangcheng):
    admin, operator = signed_in(shangcheng, "shangcheng_admin"), signed_in(shangcheng, "shangcheng_operator")
    tree = operator.get("/api/v1/categories/").json()
    dsp = next(group for group in tree if group["code"] == "DSP")
    assert dsp["is_group"] and any(leaf["code"] == "DSP-NEIGHBOUR" for leaf in dsp["leaves"])
    assert operator.get("/api/v1/categories/DSP-NEIGHBOUR/").json()["department_code"] == "D-JUS"
    assert operator.get("/api/v1/calendar-overrides/").json() == []

    created = admin.post("/api/v1/categories/", {"code": "LOCAL-X", "name": "本地", "parent": "DSP",
                                                 "accept_hours": "1", "handle_hours": "8"},
                         content_type="application/json")
    assert created.status_code == 201 and created.json()["parent"] == "DSP"
    bad = admin.post("/api/v1/categories/", {"code": "x y", "name": "本地"}, content_type="application/json")
    assert bad.status_code == 400 and "code" in bad.json()
    patched = admin.patch("/api/v1/categories/LOCAL-X/", {"handle_hours": "16", "is_active": False},
                          content_type="application/json")
    assert patched.status_code == 200 and patched.json()["handle_hours"] == "16.00"
    assert not patched.json()["is_active"]
    rule = admin.post("/api/v1/categories/DSP-NEIGHBOUR/routing-rules/", {"area": "T01", "department": "D-PSB"},
                      content_type="application/json")
    assert rule.status_code == 201 and rule.json()["area"] == "T01"
    rule_id = rule.json()["id"]
    assert operator.get("/api/v1/categories/DSP-NEIGHBOUR/").json()["routing_rules"][0]["department"] == "D-PSB"
    override = admin.post("/api/v1/calendar-overrides/", {"day": "2026-12-01", "is_working": False, "note": "x"},
                          content_type="application/json")
    assert override.status_code == 201 and override.json()["day"] == "2026-12-01"

    # Operators, grid workers, another county's admin, and this admin on another county's host: 404, no change.
    readers_only = [operator]
    nobody = [signed_in(shangcheng, "shangcheng_gridworker"), signed_in(shangcheng, "yuhang_admin"),
              signed_in(shangcheng, "shangcheng_admin", host=YUHANG)]
    for client in nobody:
        for path in ("/api/v1/categories/", "/api/v1/categories/DSP-NEIGHBOUR/", "/api/v1/calendar-overrides/"):
            assert client.get(path).status_code == 404, path
    for client in readers_only + nobody:
        json = {"content_type": "application/json"}
        assert client.post("/api/v1/categories/", {"code": "Z", "name": "z"}, **json).status_code == 404
        assert client.patch("/api/v1/categories/DSP-NEIGHBOUR/", {"name": "z"}, **json).status_code == 404
        assert client.post("/api/v1/categories/DSP-NEIGHBOUR/routing-rules/", {"area": "", "department": "D-JUS"},
                           **json).status_code == 404
        assert client.delete(f"/api/v1/routing-rules/{rule_id}/").status_code == 404
        assert client.post("/api/v1/calendar-overrides/", {"day": "2026-12-03", "is_working": True},
                           **json).status_code == 404
        assert client.delete("/api/v1/calendar-overrides/2026-12-01/").status_code == 404
    with tenant_context(shangcheng.shangcheng):
        assert not Category.objects.filter(code="Z").exists()
        assert Category.objects.get(code="DSP-NEIGHBOUR").name == "邻里纠纷"
        assert RoutingRule.objects.count() == 1 and CalendarOverride.objects.count() == 1

    assert admin.delete(f"/api/v1/routing-rules/{rule_id}/").status_code == 204
    assert admin.delete("/api/v1/calendar-overrides/2026-12-01/").status_code == 204
    assert admin.delete("/api/v1/calendar-overrides/2026-12-01/").status_code == 404
    with tenant_context(shangcheng.shangcheng):
        assert not RoutingRule.objects.exists() and not CalendarOverride.objects.exists()

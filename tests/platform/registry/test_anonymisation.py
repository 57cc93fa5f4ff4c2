"""Erasing a person on request: the console button, the command, and what is left afterwards."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.cases.models import Source
from civicgrid.platform.org.models import Department, OrgUnit
from civicgrid.platform.registry import actions, protection, selectors
from civicgrid.platform.registry.models import CareKind, Person
from civicgrid.platform.registry.synthetic import persons
from civicgrid.search.models import IndexQueue
from tests.world import PASSWORD

ROUTES_COVERED = {"registry-person-anonymise": "test_wrong_tenant_and_wrong_role_get_404_and_nothing_changes"}

REASON = "申请编号 PIPL-2026-001"


def staff(username: str) -> StaffProfile:
    return StaffProfile.objects.select_related("user", "scope_org_unit").get(user__username=username)


@pytest.fixture
def subject(world):
    """In 上城区: a person with a phone, a household, a house, care records (one sensitive) and a
    case they phoned in; the test runs in the schema."""
    with tenant_context(world.shangcheng):
        admin = staff("shangcheng_admin")
        grid = OrgUnit.objects.get(code="T01-C01-G01")
        fake = next(persons(1, region="330102", seed=1401))
        household = actions.create_household(staff=admin, grid=grid, number="HH-ANON-1", address="幸福路1号")
        person = actions.create_person(staff=admin, name="匿名测试人", id_number=fake.id_number, phone="13800001401",
                                       grid=grid, registered_address="幸福路1号301", actual_address="和平街2号",
                                       household=household)
        building = actions.create_building(staff=admin, grid=grid, code="B-ANON-1", address="幸福路1号")
        actions.create_house(staff=admin, building=building, room="301", owner=person, occupants=[person])
        actions.set_care_record(staff=admin, person=person, kind=CareKind.objects.get(code="elderly_alone"),
                                values={"care_level": "自理", "emergency_contact": "匿名测试人之子"})
        actions.set_care_record(staff=admin, person=person, kind=CareKind.objects.get(code="mental_health"),
                                values={"risk_level": 1, "guardian": "匿名测试人之妻"})
        case = case_actions.report_case(
            staff=staff("shangcheng_operator"), category="DSP-NEIGHBOUR", title="楼上漏水", description="住户来电反映漏水",
            source=Source.HOTLINE_12345, address="幸福路1号", reporter_name="匿名测试人", reporter_phone="13800001401",
            reporter_email="anon@example.com", persons=[person])
        yield {"person": person, "id_number": fake.id_number, "case": case, "household": household}


def erased_everywhere(subject) -> None:
    person = Person.objects.get(pk=subject["person"].pk)
    admin = staff("shangcheng_admin")
    assert person.anonymised_at is not None and person.name != "匿名测试人"
    assert (person.id_number(), person.phone(), person.masked_id_number, person.masked_phone) == ("", "", "", "")
    assert person.registered_address == person.actual_address == "" and person.household is None
    assert person.birth_date.month == person.birth_date.day == 1
    assert not person.care_records.exists() and not person.occupied_houses.exists() and not person.owned_houses.exists()
    # Not findable by name, ID number or phone: the console's and API's search, and the blind index itself.
    for filters in ({"name": "匿名测试人"}, {"id_number": subject["id_number"]}, {"phone": "13800001401"}):
        assert not selectors.search_registry(admin, Person, **filters).exists(), filters
    assert not Person.objects.filter(id_number_index=protection.blind_index(subject["id_number"], "id")).exists()
    assert not Person.objects.filter(phone_index=protection.blind_index("13800001401", "phone")).exists()
    client = Client(HTTP_HOST="shangcheng.localhost")
    client.force_login(admin.user)
    assert client.get("/api/v1/registry/persons/?name=匿名测试人").json()["count"] == 0
    for query in ({"id_number": subject["id_number"]}, {"phone": "13800001401"}):
        body = client.post("/api/v1/registry/persons/search/", query, content_type="application/json").json()
        assert body["count"] == 0, query
    detail = client.get(f"/api/v1/registry/persons/{person.pk}/").content.decode()
    assert "匿名测试人" not in detail and "1401" not in detail
    # The case keeps its content and loses its reporter; its document is re-indexed.
    case = type(subject["case"]).objects.get(pk=subject["case"].pk)
    assert (case.title, case.description) == ("楼上漏水", "住户来电反映漏水")
    assert (case.reporter_name, case.reporter_phone_encrypted, case.reporter_phone_index, case.reporter_email) == \
        ("", None, "", "")
    assert list(case.persons.all()) == [person]
    assert IndexQueue.objects.filter(case_id=case.pk).exists()
    case_page = client.get(f"/api/v1/cases/{case.pk}/").content.decode()
    assert "匿名测试人" not in case_page and "anon@example.com" not in case_page
    # One audit row says it happened, by whom and why; no row anywhere holds what was erased.
    row = AuditEntry.objects.get(action="registry.person_anonymised", target_id=str(person.pk))
    assert row.purpose == REASON and row.data["cases"] == 1 and row.data["care_records"] == 2
    everything = json.dumps([[r.purpose, r.data, r.actor_label] for r in AuditEntry.objects.all()], ensure_ascii=False)
    for value in ("匿名测试人", subject["id_number"], "13800001401", "幸福路1号301", "和平街2号", "anon@example.com"):
        assert value not in everything, value


def test_a_county_admin_erases_a_person_from_the_console(subject):
    client = Client(HTTP_HOST="shangcheng.localhost")
    client.force_login(staff("shangcheng_admin").user)
    page = client.get(f"/registry/persons/{subject['person'].pk}/").content.decode()
    assert f"/registry/persons/{subject['person'].pk}/anonymise/" in page
    response = client.post(f"/registry/persons/{subject['person'].pk}/anonymise/", {"reason": REASON, "confirm": "on"})
    assert response.status_code == 302
    erased_everywhere(subject)
    again = client.post(f"/registry/persons/{subject['person'].pk}/anonymise/", {"reason": REASON, "confirm": "on"})
    assert again.status_code == 400
    assert AuditEntry.objects.filter(action="registry.person_anonymised").count() == 1
    with pytest.raises(Exception, match="已匿名化"):  # in the default language
        actions.unmask(staff=staff("shangcheng_admin"), person=subject["person"], field="id_number", purpose="核对身份")


@pytest.mark.parametrize("post", [{"reason": "", "confirm": "on"}, {"reason": REASON}, {"reason": "短", "confirm": "on"}])
def test_without_a_reason_and_a_confirmation_nothing_is_erased(subject, post):
    client = Client(HTTP_HOST="shangcheng.localhost")
    client.force_login(staff("shangcheng_admin").user)
    response = client.post(f"/registry/persons/{subject['person'].pk}/anonymise/", post)
    assert response.status_code == 400
    person = Person.objects.get(pk=subject["person"].pk)
    assert person.anonymised_at is None and person.phone() == "13800001401"
    assert not AuditEntry.objects.filter(action="registry.person_anonymised").exists()


def test_wrong_tenant_and_wrong_role_get_404_and_nothing_changes(subject, world):
    # A department handler: not a role that edits persons.
    create_staff_member(username="anon_handler", password=PASSWORD, role=StaffRole.DEPARTMENT_HANDLER,
                        scope_department=Department.objects.get(code="D-JUS"), acting_user=None)
    url = f"/registry/persons/{subject['person'].pk}/anonymise/"
    for username, host in (("yuhang_operator", "shangcheng.localhost"), ("yuhang_operator", "yuhang.localhost"),
                           ("shangcheng_admin", "yuhang.localhost"), ("anon_handler", "shangcheng.localhost")):
        client = Client(HTTP_HOST=host)
        client.force_login(world.user(username))
        assert client.post(url, {"reason": REASON, "confirm": "on"}).status_code == 404, (username, host)
    with tenant_context(world.shangcheng):
        person = Person.objects.get(pk=subject["person"].pk)
        assert person.anonymised_at is None and person.name == "匿名测试人"
        assert not AuditEntry.objects.filter(action="registry.person_anonymised").exists()


def test_the_command_erases_as_the_system(subject):
    with pytest.raises(CommandError, match="至少 4 个字符"):  # in the default language
        call_command("registry", "anonymise", "--tenant", "shangcheng", "--person", str(subject["person"].pk),
                     "--reason", "x")
    call_command("registry", "anonymise", "--tenant", "shangcheng", "--person", str(subject["person"].pk),
                 "--reason", REASON)
    erased_everywhere(subject)
    assert AuditEntry.objects.get(action="registry.person_anonymised").actor_label == "system"

"""A small registry in 上城区 (one person per grid, two in T01-C01-G01), staff in every
role, two care kinds (one sensitive), and a few people in 余杭区 — built per test
through the real actions inside the test transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.org.models import Department, OrgUnit
from civicgrid.platform.registry import actions
from civicgrid.platform.registry.identity import uscc_check_char
from civicgrid.platform.registry.models import (
    Building,
    CareKind,
    CareRecord,
    House,
    Household,
    Organisation,
    Person,
    Place,
    Thing,
)
from civicgrid.platform.registry.synthetic import persons as synthetic_persons
from tests.world import PASSWORD

SHANGCHENG = "shangcheng.localhost"
YUHANG = "yuhang.localhost"
GRIDS = ["T01-C01-G01", "T01-C01-G02", "T01-C02-G01", "T01-C02-G02",
         "T02-C01-G01", "T02-C01-G02", "T02-C02-G01", "T02-C02-G02"]

# username → (role, org unit code or None, department code or None)
EXTRA_STAFF = {
    "sc_township": (StaffRole.TOWNSHIP_OPERATOR, "T01", None),
    "sc_community": (StaffRole.COMMUNITY_OPERATOR, "T01-C01", None),
    "sc_dept_county": (StaffRole.DEPARTMENT_HANDLER, None, "D-PSB"),
    "sc_dept_township": (StaffRole.DEPARTMENT_HANDLER, None, "D-T01-LAW"),
    "sc_auditor": (StaffRole.AUDITOR, None, None),
}
EVERYONE = ["shangcheng_admin", "shangcheng_operator", "shangcheng_gridworker", *EXTRA_STAFF]


def uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


@dataclass
class Registry:
    world: object
    persons: list[Person] = field(default_factory=list)  # in GRIDS order, then the second G01 person
    clear_ids: dict[int, str] = field(default_factory=dict)
    clear_phones: dict[int, str] = field(default_factory=dict)
    yuhang_persons: list[Person] = field(default_factory=list)
    records: dict[str, object] = field(default_factory=dict)

    @property
    def tenant(self):
        return self.world.shangcheng

    def staff(self, username: str) -> StaffProfile:
        with tenant_context(self.tenant):
            return StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department").get(
                user__username=username)

    def client(self, username: str, host: str = SHANGCHENG) -> Client:
        client = Client(HTTP_HOST=host)
        client.force_login(self.world.user(username))
        return client

    def in_grids(self, prefix: str) -> set[int]:
        return {p.pk for p in self.persons if p.grid.code.startswith(prefix)}


def _build(world) -> Registry:
    registry = Registry(world=world)
    with tenant_context(world.shangcheng):
        units = {u.code: u for u in OrgUnit.objects.all()}
        departments = {d.code: d for d in Department.objects.all()}
        for username, (role, unit, department) in EXTRA_STAFF.items():
            create_staff_member(username=username, password=PASSWORD, role=role,
                                scope_org_unit=units.get(unit), scope_department=departments.get(department),
                                acting_user=None)
        admin = registry.staff("shangcheng_admin")
        people = list(synthetic_persons(len(GRIDS) + 1, region="330102", seed=7))
        for grid_code, someone in zip([*GRIDS, "T01-C01-G01"], people, strict=True):
            person = actions.create_person(staff=admin, name=someone.name, id_number=someone.id_number,
                                           phone=someone.phone, grid=units[grid_code],
                                           actual_address=someone.address)
            registry.persons.append(person)
            registry.clear_ids[person.pk] = someone.id_number
            registry.clear_phones[person.pk] = someone.phone
        first, second = registry.persons[0], registry.persons[-1]
        household = actions.create_household(staff=admin, grid=units["T01-C01-G01"], number="HH-0001",
                                             address="解放路1号")
        actions.update_person(staff=admin, person=first, changes={"household": household})
        actions.update_person(staff=admin, person=second, changes={"household": household})
        building = actions.create_building(staff=admin, grid=units["T01-C01-G01"], code="B-0001",
                                           address="解放路1号1幢", floors=6)
        house = actions.create_house(staff=admin, building=building, room="101", owner=first,
                                     occupants=[first, second], is_rental=True)
        place = actions.create_place(staff=admin, grid=units["T01-C01-G02"], name="星光网吧",
                                     kind=Place.Kind.INTERNET_CAFE, address="延安路8号", is_key_place=True)
        actions.create_place(staff=admin, grid=units["T02-C01-G01"], name="城西菜场", kind=Place.Kind.MARKET,
                             address="中山路2号")
        organisation = actions.create_organisation(
            staff=admin, grid=units["T01-C01-G01"], name="杭州示例科技有限公司", kind=Organisation.Kind.ENTERPRISE,
            credit_code=uscc("91330102MA2B12345"), legal_representative=first.name)
        thing = actions.create_thing(staff=admin, grid=units["T01-C02-G01"], code="MH-0001", kind="manhole",
                                     latitude="30.241000", longitude="120.171000", state=Thing.State.DAMAGED)
        operators = [StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR, StaffRole.TOWNSHIP_OPERATOR,
                     StaffRole.COMMUNITY_OPERATOR, StaffRole.GRID_WORKER, StaffRole.AUDITOR]
        allowance = actions.create_care_kind(staff=admin, code="dibao", name="低保", granted_roles=operators, fields=[
            {"name": "monthly_allowance", "label": "每月补助", "type": "decimal", "required": True},
            {"name": "since", "label": "起始日期", "type": "date"},
            {"name": "level", "label": "等级", "type": "choice", "choices": ["A", "B"]},
        ])
        released = actions.create_care_kind(
            staff=admin, code="released", name="刑满释放人员", is_sensitive=True,
            granted_roles=[StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR],
            fields=[{"name": "released_on", "label": "释放日期", "type": "date", "required": True}])
        dibao = actions.set_care_record(staff=admin, person=first, kind=allowance,
                                        values={"monthly_allowance": "800.50", "since": "2024-01-01"})
        secret = actions.set_care_record(staff=admin, person=first, kind=released,
                                         values={"released_on": "2023-05-06"})
        registry.records = {"household": household, "building": building, "house": house, "place": place,
                            "organisation": organisation, "thing": thing, "dibao": allowance,
                            "released": released, "dibao_record": dibao, "released_record": secret}
    with tenant_context(world.yuhang):
        grid = OrgUnit.objects.get(code="T01-C01-G01")
        yuhang_admin = StaffProfile.objects.select_related("user").get(user__username="yuhang_admin")
        for someone in synthetic_persons(2, region="330110", seed=8):
            registry.yuhang_persons.append(actions.create_person(
                staff=yuhang_admin, name=someone.name, id_number=someone.id_number, grid=grid))
    return registry


@pytest.fixture
def registry(world) -> Registry:
    return _build(world)


def counts(tenant) -> dict[str, int]:
    """Row counts of every registry table, to prove a refused request changed nothing."""
    with tenant_context(tenant):
        return {model.__name__: model.objects.count()
                for model in (Person, Household, Building, House, Place, Organisation, Thing, CareKind, CareRecord)}

"""Persons in 上城区 and 余杭区 and staff in every role, made through the real actions
inside the test transaction, for checking lists against the registry."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.org.models import Department, OrgUnit
from civicgrid.platform.registry.actions import create_person
from civicgrid.platform.registry.synthetic import persons as synthetic_persons

SHANGCHENG = "shangcheng.localhost"
YUHANG = "yuhang.localhost"
# A region of its own, so these synthetic ID numbers never meet another module's.
REGION = "330106"

# username → (role, org unit code or None, department code or None)
EXTRA_STAFF = {
    "vf_township": (StaffRole.TOWNSHIP_OPERATOR, "T01", None),
    "vf_community": (StaffRole.COMMUNITY_OPERATOR, "T01-C01", None),
    "vf_dept_township": (StaffRole.DEPARTMENT_HANDLER, None, "D-T01-LAW"),
    "vf_dept_county": (StaffRole.DEPARTMENT_HANDLER, None, "D-PSB"),
    "vf_auditor": (StaffRole.AUDITOR, None, None),
}


@dataclass
class Person:
    name: str
    id_number: str
    registered_address: str
    actual_address: str
    grid: str


@dataclass
class Setup:
    world: object
    # key → the person as registered (clear ID number, for building input rows)
    people: dict[str, Person] = field(default_factory=dict)
    unregistered: list[str] = field(default_factory=list)  # valid ID numbers nobody has

    def staff(self, username: str, tenant=None) -> StaffProfile:
        with tenant_context(tenant or self.world.shangcheng):
            return StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department").get(
                user__username=username)

    def client(self, username: str, host: str = SHANGCHENG) -> Client:
        client = Client(HTTP_HOST=host)
        client.force_login(self.world.user(username))
        return client

    def row(self, key: str, **changes) -> dict:
        person = self.people[key]
        row = {"name": person.name, "id_number": person.id_number, "address": person.registered_address}
        return {**row, **changes}

    def audit_count(self, tenant=None) -> int:
        with tenant_context(tenant or self.world.shangcheng):
            return AuditEntry.objects.filter(action="registry.verified").count()


@pytest.fixture
def setup(world) -> Setup:
    made = Setup(world=world)
    ids = [p.id_number for p in synthetic_persons(6, region=REGION, seed=6106)]
    made.unregistered = ids[4:]
    plans = {
        # T01: 张三 lives where registered; 王五 lives elsewhere (actual address).
        "zhang": Person("张三", ids[0], "解放路1号", "", "T01-C01-G01"),
        "wang": Person("王五", ids[1], "中山路12号3幢201室", "延安路8号", "T01-C02-G01"),
        # T02: another township.
        "li": Person("李四", ids[2], "凤起路7号", "", "T02-C01-G01"),
    }
    with tenant_context(world.shangcheng):
        admin = StaffProfile.objects.get(user__username="shangcheng_admin")
        units = {u.code: u for u in OrgUnit.objects.all()}
        for key, plan in plans.items():
            create_person(staff=admin, name=plan.name, id_number=plan.id_number, grid=units[plan.grid],
                          registered_address=plan.registered_address, actual_address=plan.actual_address)
            made.people[key] = plan
        departments = {d.code: d for d in Department.objects.all()}
        for username, (role, unit, department) in EXTRA_STAFF.items():
            create_staff_member(username=username, password="x" * 12, role=role,
                                scope_org_unit=units.get(unit), scope_department=departments.get(department),
                                acting_user=None)
    # The same person (same ID number) registered in 余杭区: never visible from 上城区.
    yuhang_plan = Person("赵六", ids[3], "文一西路9号", "", "T01-C01-G01")
    with tenant_context(world.yuhang):
        admin = StaffProfile.objects.get(user__username="yuhang_admin")
        create_person(staff=admin, name=yuhang_plan.name, id_number=yuhang_plan.id_number,
                      grid=OrgUnit.objects.get(code=yuhang_plan.grid),
                      registered_address=yuhang_plan.registered_address)
    made.people["zhao_yuhang"] = yuhang_plan
    return made

"""The shared test world, built once per session through the real actions:
the province, one city and two counties with staff in every role."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.db import connection
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.actions import create_province_user, create_staff_member
from civicgrid.platform.accounts.models import ProvinceRole, User
from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.org.demo import build_demo_tree
from civicgrid.province.onboarding import ensure_province, onboard_tenant
from civicgrid.tenants.models import Domain, OnboardingJob, Tenant
from civicgrid.tenants.schemas import drop_schema

PASSWORD = "correct horse battery"
BASE = "localhost"


@dataclass
class World:
    province: Tenant
    city: Tenant
    shangcheng: Tenant
    yuhang: Tenant
    users: dict[str, User] = field(default_factory=dict)

    def user(self, name: str) -> User:
        return User.objects.get(username=name)


def build_world() -> World:
    call_command("migrate_all", verbosity=0, no_progress=True)
    hashed = make_password(PASSWORD)
    province = ensure_province(name="浙江省", division_code="330000", domain=BASE)
    create_province_user(username="prov_admin", password_hash=hashed, province_role=ProvinceRole.PROVINCIAL_ADMIN,
                         acting_user=None)
    create_province_user(username="prov_supervisor", password_hash=hashed,
                         province_role=ProvinceRole.PROVINCIAL_SUPERVISOR, acting_user=None)
    city = onboard_tenant(name="杭州市", division_code="330100", level="city", domain=f"hangzhou.{BASE}",
                          admin_password_hash=hashed, acting_user=None).tenant
    shangcheng = onboard_tenant(name="上城区", division_code="330102", level="county", parent_code="330100",
                                domain=f"shangcheng.{BASE}", admin_password_hash=hashed, acting_user=None).tenant
    yuhang = onboard_tenant(name="余杭区", division_code="330110", level="county", parent_code="330100",
                            domain=f"yuhang.{BASE}", admin_password_hash=hashed, acting_user=None).tenant
    # Different head counts, so a figure computed in the wrong schema shows.
    with tenant_context(shangcheng):
        tree = build_demo_tree(center=(120.17, 30.24))
        create_staff_member(username="shangcheng_operator", password_hash=hashed,
                            role=StaffRole.COMMAND_OPERATOR, acting_user=None)
        create_staff_member(username="shangcheng_gridworker", password_hash=hashed, role=StaffRole.GRID_WORKER,
                            scope_org_unit=tree["T01-C01-G01"], acting_user=None)
    with tenant_context(yuhang):
        build_demo_tree(center=(120.30, 30.42))
        create_staff_member(username="yuhang_operator", password_hash=hashed, role=StaffRole.COMMAND_OPERATOR,
                            acting_user=None)
    connection.set_schema_to_public()
    return World(province=province, city=city, shangcheng=shangcheng, yuhang=yuhang)


def discard_tenant(code):
    tenant = Tenant.objects.filter(division_code=code).first()
    if tenant is None:
        return
    OnboardingJob.objects.filter(tenant=tenant).update(tenant=None)
    with tenant_context(tenant):  # a user's staff profile lives in the tenant schema
        User.objects.filter(home_tenant=tenant).delete()
    Domain.objects.filter(tenant=tenant).delete()
    drop_schema(tenant.schema_name)
    tenant.delete()

"""The demo province a newcomer sees on first run: 浙江省 with two cities and three counties.

Everything is made through the same actions an operator would use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from civicgrid.platform.accounts.actions import create_province_user, create_staff_member
from civicgrid.platform.accounts.models import ProvinceRole, User
from civicgrid.platform.accounts.staff.models import SECOND_FACTOR_ROLES, StaffRole
from civicgrid.platform.org.demo import build_demo_tree
from civicgrid.platform.org.models import Department, OrgUnit
from civicgrid.province.demo_history import HISTORY_DAYS, seed_demo_history
from civicgrid.province.onboarding import ensure_province, onboard_tenant
from civicgrid.province.publishing import publish_daily_aggregates
from civicgrid.tenants.models import Tenant

DEMO_PASSWORD = "civicgrid-demo"

PROVINCE = ("浙江省", "330000")
# (name, division code, level, parent code, subdomain, centre lng/lat) — real GB/T 2260 codes.
TENANTS = [
    ("杭州市", "330100", Tenant.Level.CITY, None, "hangzhou", (120.15, 30.27)),
    ("温州市", "330300", Tenant.Level.CITY, None, "wenzhou", (120.69, 28.00)),
    ("上城区", "330102", Tenant.Level.COUNTY, "330100", "shangcheng", (120.17, 30.24)),
    ("余杭区", "330110", Tenant.Level.COUNTY, "330100", "yuhang", (120.30, 30.42)),
    ("平阳县", "330326", Tenant.Level.COUNTY, "330300", "pingyang", (120.56, 27.66)),
]
PROVINCE_USERS = [
    ("province_admin", ProvinceRole.PROVINCIAL_ADMIN, "省平台管理员"),
    ("province_supervisor", ProvinceRole.PROVINCIAL_SUPERVISOR, "省督导员"),
    ("vendor_acme", ProvinceRole.VENDOR, "Acme 插件厂商"),
]
# (username suffix, role, scope code or "", title) for every tenant; the county admin
# (<schema>_admin) comes from onboarding itself. Codes name org units or departments.
STAFF = [
    ("operator", StaffRole.COMMAND_OPERATOR, "", "指挥中心值班员"),
    ("handler", StaffRole.DEPARTMENT_HANDLER, "D-PSB", "公安分局承办人"),
    ("township", StaffRole.TOWNSHIP_OPERATOR, "T01", "街道综治中心"),
    ("community", StaffRole.COMMUNITY_OPERATOR, "T01-C01", "社区工作站"),
    ("gridworker", StaffRole.GRID_WORKER, "T01-C01-G01", "网格员"),
    ("auditor", StaffRole.AUDITOR, "", "考核审计员"),
]


# Counties whose communities publish resident sites in the demo.
DEMO_SITE_TENANTS = {"shangcheng"}
# The built-in modules each demo county has switched on, with a few records of each.
DEMO_MODULES = {"shangcheng": ("fire_safety", "food_safety", "school_surroundings"), "pingyang": ("fire_safety",)}


@dataclass
class DemoAccount:
    site: str
    username: str
    role: str
    second_factor: bool = False  # signs in with a TOTP code too (enrols at the first sign-in)


def demo_is_seeded() -> bool:
    return Tenant.objects.filter(schema_name="public").exists()


def seed_demo(*, progress=None) -> list[DemoAccount]:
    base = settings.CIVICGRID_BASE_DOMAIN
    ensure_province(name=PROVINCE[0], division_code=PROVINCE[1], domain=base)
    accounts = []
    password_hash = make_password(DEMO_PASSWORD)  # hash once: PBKDF2 is slow on purpose
    for username, role, full_name in PROVINCE_USERS:
        if not User.objects.filter(username=username).exists():
            create_province_user(username=username, password_hash=password_hash, province_role=role,
                                 full_name=full_name, acting_user=None)
        accounts.append(DemoAccount(base, username, ProvinceRole(role).label,
                                    second_factor=role == ProvinceRole.PROVINCIAL_ADMIN))
    _demo_vendor()
    _publish_demo_modules()
    for index, (name, code, level, parent, sub, centre) in enumerate(TENANTS, start=1):
        if progress:
            progress(index - 1, len(TENANTS), name)
        result = onboard_tenant(name=name, division_code=code, level=level, parent_code=parent,
                                domain=f"{sub}.{base}", admin_password_hash=password_hash, acting_user=None)
        tenant = result.tenant
        accounts.append(DemoAccount(tenant.primary_domain, result.admin_username, StaffRole.COUNTY_ADMIN.label,
                                    second_factor=True))
        with tenant_context(tenant):
            tree = build_demo_tree(center=centre)
            add_default_departments(tree)
            for suffix, role, scope_code, title in STAFF:
                username = f"{tenant.schema_name}_{suffix}"
                if not User.objects.filter(username=username).exists():
                    scope = tree.get(scope_code)
                    create_staff_member(
                        username=username, password_hash=password_hash, role=role, full_name=f"{name}{title}",
                        scope_org_unit=scope if isinstance(scope, OrgUnit) else None,
                        scope_department=scope if isinstance(scope, Department) else None, acting_user=None)
                accounts.append(DemoAccount(tenant.primary_domain, username, StaffRole(role).label,
                                            second_factor=role in SECOND_FACTOR_ROLES))
            seed_demo_people(tenant, tree)
            seed_demo_cases(tenant, tree)
            seed_demo_history(tenant)
            if tenant.schema_name in DEMO_SITE_TENANTS:
                from civicgrid.cms.demo import seed_demo_sites

                for community_site in seed_demo_sites(editor_password_hash=password_hash,
                                                      tenant_schema=tenant.schema_name):
                    accounts.append(DemoAccount(community_site.host, "—", _("Community site (residents)")))
                accounts.append(DemoAccount(tenant.primary_domain, f"{tenant.schema_name}_editor",
                                            StaffRole.COMMUNITY_EDITOR.label))
        tenant = seed_demo_modules(tenant)
        accounts += _accounts_made_by_modules(tenant, listed={a.username for a in accounts})
        # The history's figures for the supervision pages at once (the beat publishes only
        # yesterday and today, and its first round is a quarter of an hour away).
        today = timezone.localdate()
        for back in range(HISTORY_DAYS + 1, -1, -1):
            publish_daily_aggregates(tenant=tenant, day=today - timedelta(days=back))
    if progress:
        progress(len(TENANTS), len(TENANTS), _("done"))
    return accounts


def _demo_vendor() -> None:
    """vendor_acme signs in for Acme's plugins (examples/acme-sms, once installed)."""
    from civicgrid.plugins.models import Vendor, VendorMember

    vendor, _created = Vendor.objects.get_or_create(code="acme", defaults={"name": "Acme 通信有限公司"})
    VendorMember.objects.get_or_create(user=User.objects.get(username="vendor_acme"), defaults={"vendor": vendor})


def _publish_demo_modules() -> None:
    from civicgrid.plugins.actions import publish_plugin
    from civicgrid.plugins.catalog import sync_catalog

    installed = {entry.plugin_id for entry in sync_catalog() if entry.installed and not entry.problem}
    for plugin_id in sorted({p for modules in DEMO_MODULES.values() for p in modules} & installed):
        publish_plugin(plugin_id=plugin_id, published=True, acting_user=None)


def seed_demo_modules(tenant: Tenant) -> Tenant:
    """Switch the county's demo modules on (as its admin would) and give each a few records."""
    from civicgrid.plugins.actions import enable_plugin
    from civicgrid.plugins.manager import plugin_configs

    for plugin_id in DEMO_MODULES.get(tenant.schema_name, ()):
        config = plugin_configs().get(plugin_id)
        if config is None:  # left out by the allow or deny list
            continue
        if plugin_id not in (tenant.active_plugins or ()):
            enable_plugin(tenant=tenant, plugin_id=plugin_id, acting_user=None)
            tenant.refresh_from_db()
        with tenant_context(tenant):
            import_module(f"{config.name}.demo").seed_demo(tenant=tenant)
    return tenant


def _accounts_made_by_modules(tenant: Tenant, *, listed: set[str]) -> list[DemoAccount]:
    """Staff a module's demo added (food safety's market-supervision handler), for the banner."""
    from civicgrid.platform.accounts.staff.models import StaffProfile

    with tenant_context(tenant):
        members = (StaffProfile.objects.select_related("user").order_by("user__username")
                   .filter(user__username__startswith=f"{tenant.schema_name}_").exclude(user__username__in=listed))
        return [DemoAccount(tenant.primary_domain, member.user.username, StaffRole(member.role).label,
                            second_factor=member.role in SECOND_FACTOR_ROLES) for member in members]


def add_default_departments(tree: dict) -> None:
    """Every department the province's categories route to, so demo cases dispatch."""
    from civicgrid.platform.cases.defaults import DEFAULT_DEPARTMENTS
    from civicgrid.platform.org.actions import create_department

    for item in DEFAULT_DEPARTMENTS:
        if item.code not in tree and not Department.objects.filter(code=item.code).exists():
            tree[item.code] = create_department(code=item.code, name=item.name, acting_user=None)


DEMO_PEOPLE_PER_TENANT = 48


def seed_demo_people(tenant: Tenant, tree: dict) -> None:
    """Synthetic residents spread over the demo grids, entered by the county admin."""
    from civicgrid.platform.accounts.staff.models import StaffProfile
    from civicgrid.platform.registry.actions import create_person
    from civicgrid.platform.registry.models import Person
    from civicgrid.platform.registry.synthetic import persons

    if Person.objects.exists():
        return
    admin = StaffProfile.objects.select_related("user").get(user__username=f"{tenant.schema_name}_admin")
    grids = [unit for unit in tree.values() if isinstance(unit, OrgUnit) and unit.level == OrgUnit.Level.GRID]
    for index, person in enumerate(persons(DEMO_PEOPLE_PER_TENANT, region=tenant.division_code)):
        residence = Person.Residence.FLOATING if index % 4 == 0 else Person.Residence.REGISTERED
        create_person(staff=admin, name=person.name, id_number=person.id_number, phone=person.phone,
                      grid=grids[index % len(grids)], residence=residence,
                      registered_address=person.address, actual_address=person.address)


def seed_demo_cases(tenant: Tenant, tree: dict) -> None:
    """A few cases at different steps, so every role finds work in its queue."""
    from civicgrid.platform.accounts.staff.models import StaffProfile
    from civicgrid.platform.cases import actions
    from civicgrid.platform.cases.models import Case, Source

    if Case.objects.exists():
        return

    def staff(suffix: str) -> StaffProfile:
        return StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department").get(
            user__username=f"{tenant.schema_name}_{suffix}")

    worker, operator, handler = staff("gridworker"), staff("operator"), staff("handler")
    corner = tree["T01-C01-G01"].boundary["coordinates"][0][0]  # the grid's south-west corner
    lng, lat = corner[0] + 0.004, corner[1] + 0.004

    def report(category: str, title: str, description: str, by=worker, source=Source.GRID_WORKER):
        return actions.report_case(staff=by, category=category, title=title, description=description,
                                   source=source, latitude=lat, longitude=lng, address="幸福社区3幢")

    report("DSP-NEIGHBOUR", "楼上漏水引发邻里争执", "3幢401漏水至301，两户多次争吵。")
    report("URB-ROAD", "人行道路面塌陷", "幸福路与和平街交叉口东侧人行道塌陷约半米。", by=operator,
           source=Source.HOTLINE_12345)
    queued = report("ENV-NOISE-NEIGHBOUR", "夜间装修噪音扰民", "2幢一住户连续三晚22点后装修。")
    actions.accept_case(staff=operator, case_id=queued.pk)
    actions.dispatch_case(staff=operator, case_id=queued.pk)
    handled = report("PUB-RENTAL-HOUSING", "出租房屋人员登记不全", "5幢602出租房入住人员未登记。")
    actions.accept_case(staff=operator, case_id=handled.pk)
    actions.dispatch_case(staff=operator, case_id=handled.pk)
    actions.start_case(staff=handler, case_id=handled.pk)
    actions.handle_case(staff=handler, case_id=handled.pk, result="已上门核查，补登记租住人员3名。")
    closed = report("ENV-NOISE-NEIGHBOUR", "广场舞音响过大", "小区广场晚间音响音量过大。")
    actions.accept_case(staff=operator, case_id=closed.pk)
    actions.dispatch_case(staff=operator, case_id=closed.pk)
    actions.start_case(staff=handler, case_id=closed.pk)
    actions.handle_case(staff=handler, case_id=closed.pk, result="已与队员协商，音量降低并提前至21点结束。")
    actions.rate_case(staff=operator, case_id=closed.pk, rating=5, comment="回访居民表示满意。")
    actions.close_case(staff=operator, case_id=closed.pk)

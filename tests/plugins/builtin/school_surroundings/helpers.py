"""Shared pieces of the school-surroundings tests: the module switched on in 上城区, a school in
T01-C01-G01, points at a given distance from it, staff in every role, a rota slot running now."""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import connection
from django.test import Client
from django.utils import timezone

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.org.models import Department, OrgUnit
from civicgrid.plugins import actions as plugin_actions
from civicgrid.plugins.builtin.school_surroundings import actions
from civicgrid.plugins.builtin.school_surroundings.geometry import METRES_PER_DEGREE
from civicgrid.plugins.builtin.school_surroundings.models import PatrolSlot, School
from civicgrid.plugins.catalog import sync_catalog
from civicgrid.plugins.models import CatalogEntry

PLUGIN = "school_surroundings"
SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"
SCHOOL_AT = (30.2455, 120.1750)  # inside T01-C01-G01 (120.17–120.18 E, 30.24–30.25 N)


def switch_on(world, tenant=None):
    if not CatalogEntry.objects.filter(plugin_id=PLUGIN).exists():
        sync_catalog()
    connection.set_schema_to_public()
    plugin_actions.publish_plugin(plugin_id=PLUGIN, published=True, acting_user=None)
    plugin_actions.enable_plugin(tenant=tenant or world.shangcheng, plugin_id=PLUGIN, acting_user=None)


def staff(username: str) -> StaffProfile:
    return StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department").get(
        user__username=username)


def member(username: str, role: str, scope: str = "") -> StaffProfile:
    """A staff member of the current tenant, made once (``scope`` an org unit or department code)."""
    if not StaffProfile.objects.filter(user__username=username).exists():
        unit = OrgUnit.objects.filter(code=scope).first() if scope else None
        department = Department.objects.filter(code=scope).first() if scope and unit is None else None
        create_staff_member(username=username, password="x" * 12, role=role, scope_org_unit=unit,
                            scope_department=department, acting_user=None)
    return staff(username)


def everyone() -> dict[str, StaffProfile]:
    """Every role of 上城区 (call in its tenant)."""
    return {
        "admin": staff("shangcheng_admin"),
        "operator": staff("shangcheng_operator"),
        "gridworker": staff("shangcheng_gridworker"),
        "township": member("sc_township_t01", StaffRole.TOWNSHIP_OPERATOR, "T01"),
        "other_township": member("sc_township_t02", StaffRole.TOWNSHIP_OPERATOR, "T02"),
        "community": member("sc_community_c01", StaffRole.COMMUNITY_OPERATOR, "T01-C01"),
        "auditor": member("sc_auditor", StaffRole.AUDITOR),
        "handler": member("sc_handler_edu", StaffRole.DEPARTMENT_HANDLER, "D-EDU"),
    }


def point_at(distance_m: float, bearing_deg: float = 0.0, origin=SCHOOL_AT) -> tuple[float, float]:
    """A point ``distance_m`` from ``origin`` on a bearing (0 north, 90 east), on the sphere."""
    lat, lng = map(math.radians, origin)
    angle = distance_m / (METRES_PER_DEGREE * 180 / math.pi)
    bearing = math.radians(bearing_deg)
    lat2 = math.asin(math.sin(lat) * math.cos(angle) + math.cos(lat) * math.sin(angle) * math.cos(bearing))
    lng2 = lng + math.atan2(math.sin(bearing) * math.sin(angle) * math.cos(lat),
                            math.cos(angle) - math.sin(lat) * math.sin(lat2))
    return round(math.degrees(lat2), 6), round(math.degrees(lng2), 6)


def make_school(code: str = "T-S001", at=SCHOOL_AT, radius_m: int = 200, grid: str = "T01-C01-G01",
                name: str = "测试小学") -> School:
    return actions.create_school(staff=staff("shangcheng_admin"), code=code, name=name, kind="primary",
                                 address="幸福路1号", grid=OrgUnit.objects.get(code=grid),
                                 latitude=Decimal(f"{at[0]:.6f}"), longitude=Decimal(f"{at[1]:.6f}"), pupils=500,
                                 radius_m=radius_m)


def slot_around_now(school: School, patrollers, *, minutes: int = 30) -> PatrolSlot:
    """A slot every day, from a little before now to a little after (within today)."""
    now = timezone.localtime()
    start = max(datetime.combine(now.date(), time.min), now.replace(tzinfo=None) - timedelta(minutes=minutes))
    end = min(datetime.combine(now.date(), time(23, 59, 59)), now.replace(tzinfo=None) + timedelta(minutes=minutes))
    return actions.add_slot(staff=staff("shangcheng_admin"), school=school, weekdays="1234567",
                            starts_at=start.time().replace(microsecond=0), ends_at=end.time().replace(microsecond=0),
                            patrollers=patrollers)


def client(world, username: str | None, host: str = SHANGCHENG, language: str = "en") -> Client:
    c = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE=language)
    if username:
        c.force_login(world.user(username))
    return c

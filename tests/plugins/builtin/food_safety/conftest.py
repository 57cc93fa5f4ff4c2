"""The food-safety module switched on in 上城区 (shangcheng) and off in 余杭区 (yuhang)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tenants.utils import tenant_context
from PIL import Image

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.org.models import Department, OrgUnit
from civicgrid.plugins import actions as plugin_actions
from civicgrid.plugins.catalog import sync_catalog
from civicgrid.plugins.models import CatalogEntry

SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"
IN_G01 = {"latitude": "30.245000", "longitude": "120.175000"}  # inside shangcheng's T01-C01-G01


def switch_on(world, tenant=None):
    if not CatalogEntry.objects.filter(plugin_id="food_safety").exists():
        sync_catalog()
    plugin_actions.publish_plugin(plugin_id="food_safety", published=True, acting_user=None)
    plugin_actions.enable_plugin(tenant=tenant or world.shangcheng, plugin_id="food_safety", acting_user=None)


@pytest.fixture
def food(world):
    switch_on(world)
    with tenant_context(world.shangcheng):
        ensure_people()
    return world


def staff(username: str) -> StaffProfile:
    return StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department").get(
        user__username=username)


def ensure_people() -> None:
    """Who the tests act as, besides the world's admin, operator and grid worker."""
    people = [
        ("fs_samr", StaffRole.DEPARTMENT_HANDLER, {"scope_department": Department.objects.get(code="D-SAMR")}),
        ("fs_psb", StaffRole.DEPARTMENT_HANDLER, {"scope_department": Department.objects.get(code="D-PSB")}),
        ("fs_auditor", StaffRole.AUDITOR, {}),
        ("fs_township2", StaffRole.TOWNSHIP_OPERATOR, {"scope_org_unit": OrgUnit.objects.get(code="T02")}),
        ("fs_gridworker2", StaffRole.GRID_WORKER, {"scope_org_unit": OrgUnit.objects.get(code="T02-C01-G01")}),
    ]
    for username, role, scope in people:
        if not StaffProfile.objects.filter(user__username=username).exists():
            create_staff_member(username=username, password="x" * 12, role=role, acting_user=None, **scope)


def business_values(**extra) -> dict:
    values = {"name": "老王面馆", "kind": "catering", "address": "幸福路1号", "grid": "T01-C01-G01", **IN_G01,
              "operator_name": "王某", "operator_phone": "13800000001", "credit_code": "",
              "licence_number": "JY13301020000001", "licence_issued_on": date(2022, 1, 1),
              "licence_expires_on": date.today() + timedelta(days=400)}
    values.update(extra)
    return values


def photo(name: str = "fail.jpg", color=(200, 30, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def answers(items, *, fail=(), na=()) -> dict:
    """A checklist's answers: every item passes unless its code is in ``fail`` or ``na``."""
    data = {**IN_G01}
    files = {}
    for item in items:
        if item.code in fail:
            data[f"item-{item.pk}"] = "fail"
            data[f"item-{item.pk}-note"] = f"{item.code} 不合格"
            files[f"item-{item.pk}-photo"] = photo()
        else:
            data[f"item-{item.pk}"] = "na" if item.code in na else "pass"
    return data, files


def client(world, username: str | None, host: str = SHANGCHENG) -> Client:
    c = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en")
    if username:
        c.force_login(world.user(username))
    return c

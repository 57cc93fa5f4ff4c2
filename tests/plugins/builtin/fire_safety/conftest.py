"""Fire safety switched on in 上城区 (shangcheng), off in 余杭区 (yuhang); units in T01-C01-G01."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django_tenants.utils import tenant_context
from PIL import Image

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.org.models import Department, OrgUnit
from civicgrid.plugins import actions as plugin_actions
from civicgrid.plugins.builtin.fire_safety import actions
from civicgrid.plugins.builtin.fire_safety.models import RiskUnit
from civicgrid.plugins.builtin.fire_safety.selectors import checklist
from civicgrid.plugins.catalog import sync_catalog
from civicgrid.plugins.models import CatalogEntry

PLUGIN = "fire_safety"
SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"
HERE = {"latitude": "30.245000", "longitude": "120.175000"}  # inside T01-C01-G01


def switch_on(world, tenant=None):
    connection.set_schema_to_public()
    if not CatalogEntry.objects.filter(plugin_id=PLUGIN).exists():
        sync_catalog()
    plugin_actions.publish_plugin(plugin_id=PLUGIN, published=True, acting_user=None)
    plugin_actions.enable_plugin(tenant=tenant or world.shangcheng, plugin_id=PLUGIN, acting_user=None)


def staff(username: str) -> StaffProfile:
    return StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department").get(
        user__username=username)


def ensure_people() -> None:
    people = [
        ("fire_handler", StaffRole.DEPARTMENT_HANDLER, {"scope_department": Department.objects.get(code="D-FIRE")}),
        ("fire_auditor", StaffRole.AUDITOR, {}),
        ("fire_township2", StaffRole.TOWNSHIP_OPERATOR, {"scope_org_unit": OrgUnit.objects.get(code="T02")}),
        ("fire_township1", StaffRole.TOWNSHIP_OPERATOR, {"scope_org_unit": OrgUnit.objects.get(code="T01")}),
        ("fire_gridworker2", StaffRole.GRID_WORKER, {"scope_org_unit": OrgUnit.objects.get(code="T02-C01-G01")}),
    ]
    for username, role, scope in people:
        if not StaffProfile.objects.filter(user__username=username).exists():
            create_staff_member(username=username, password="x" * 12, role=role, acting_user=None, **scope)


def make_unit(code="FS-T001", kind="rental_house", grid="T01-C01-G01", **extra) -> RiskUnit:
    values = {"code": code, "name": f"测试单位{code}", "kind": kind, "address": "幸福路1号", "grid": grid,
              "latitude": "30.245100", "longitude": "120.175100", "contact_name": "王师傅",
              "contact_phone": "13800000000", **extra}
    return actions.save_unit(actor=None, values=values)


def jpeg(name="fail.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def answers(unit, fail=(), na=(), photos=True) -> tuple[dict, dict]:
    """Form data answering every item of the unit's checklist (``fail``/``na``: positions from 0)."""
    data, files = dict(HERE), {}
    for index, item in enumerate(checklist(unit.kind)):
        result = "fail" if index in fail else "na" if index in na else "pass"
        data[f"item-{item.pk}"] = result
        if result == "fail" and photos:
            files[f"item-{item.pk}-photo"] = jpeg()
    return data, files


def client_for(world, username: str | None, host: str = SHANGCHENG) -> Client:
    client = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en")
    if username:
        client.force_login(world.user(username))
    return client


@pytest.fixture
def fire(world):
    switch_on(world)
    with tenant_context(world.shangcheng):
        ensure_people()
    return world


def discard_unit(world, code: str) -> None:
    """What a committed test made for one unit: its inspections, hazards, cases and their files,
    the module's usage; and the module switched off again."""
    from django.core.files.storage import default_storage

    from civicgrid.platform.cases.models import Attachment, Case
    from civicgrid.platform.notifications.models import Notification, OutboxEvent
    from civicgrid.plugins.builtin.fire_safety.models import Hazard, Inspection, ItemResult
    from civicgrid.plugins.models import UsageRecord

    connection.set_schema_to_public()
    with tenant_context(world.shangcheng):
        case_ids = list(Hazard.objects.filter(unit__code=code).values_list("case_id", flat=True))
        for item in Attachment.objects.filter(case_id__in=case_ids):
            for name in filter(None, (item.file, item.thumbnail)):
                default_storage.delete(name)
        for result in ItemResult.objects.filter(inspection__unit__code=code).exclude(photo=""):
            default_storage.delete(result.photo)
        Hazard.objects.filter(unit__code=code).delete()
        ItemResult.objects.filter(inspection__unit__code=code).delete()
        Inspection.objects.filter(unit__code=code).delete()
        RiskUnit.objects.filter(code=code).delete()
        Notification.objects.filter(case_id__in=case_ids).delete()
        OutboxEvent.objects.filter(payload__case_id__in=case_ids).delete()
        Case.objects.filter(pk__in=case_ids).delete()
    UsageRecord.objects.filter(tenant=world.shangcheng, plugin_id="fire_safety").delete()
    plugin_actions.disable_plugin(tenant=world.shangcheng, plugin_id="fire_safety", acting_user=None)

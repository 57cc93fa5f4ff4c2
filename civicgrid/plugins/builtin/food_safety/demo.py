"""Demo records for the food-safety module: a few businesses across the demo grids (one
licence expiring within 30 days, one expired), a failed inspection with its open case, and
a complaint taken from the hotline. Idempotent: a county that has them is left alone."""

from __future__ import annotations

import io
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.org.models import Department, OrgUnit

from . import actions
from .checklist import items_for, seed_checklist
from .models import FoodBusiness, FoodCase, Inspection

# (name, kind, grid, address, licence number suffix, days until expiry)
BUSINESSES = [
    ("老王面馆", "catering", "T01-C01-G01", "幸福路12号", "0001", 400),
    ("鲜丰水果超市", "sales", "T01-C01-G01", "幸福路30号", "0002", 18),
    ("张记豆腐坊", "workshop", "T01-C01-G02", "和平巷5号", "0003", -12),
    ("百姓大药房", "pharmacy", "T01-C02-G01", "和平路88号", "0004", 700),
    ("城西小吃店", "catering", "T02-C01-G01", "光明街3号", "0005", 250),
    ("新民早餐摊", "vendor", "T02-C02-G02", "新民路口", "0006", 90),
]


def seed_demo(*, tenant) -> None:
    seed_checklist()
    if FoodBusiness.objects.exists():
        return
    schema = tenant.schema_name

    def staff(suffix: str) -> StaffProfile:
        return StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department").get(
            user__username=f"{schema}_{suffix}")

    admin, operator, worker = staff("admin"), staff("operator"), staff("gridworker")
    _market_supervision_handler(schema, admin)
    today = timezone.localdate()
    made = {}
    for index, (name, kind, grid_code, address, suffix, days) in enumerate(BUSINESSES):
        grid = OrgUnit.objects.filter(code=grid_code).first()
        if grid is None:
            continue
        corner = (grid.boundary or {}).get("coordinates", [[[None, None]]])[0][0]
        location = ({"latitude": f"{corner[1] + 0.002 + 0.001 * index:.6f}",
                     "longitude": f"{corner[0] + 0.003 + 0.001 * index:.6f}"} if corner[0] is not None else {})
        made[name] = actions.register_business(
            staff=admin, name=name, kind=kind, grid=grid, address=address, operator_name=f"{name[:1]}先生",
            operator_phone=f"1380000{index:04d}", licence_number=f"JY1{tenant.division_code}{suffix:0>8}",
            licence_issued_on=today - timedelta(days=1800 - max(days, 0)),
            licence_expires_on=today + timedelta(days=days), **location)
    noodles = made.get("老王面馆")
    if noodles is not None and worker.scope_org_unit_id == noodles.grid_id and not Inspection.objects.exists():
        data = {"latitude": str(noodles.latitude or ""), "longitude": str(noodles.longitude or ""),
                "note": "午市高峰检查"}
        files = {}
        for item in items_for(noodles):
            if item.code == "cold":
                data[f"item-{item.pk}"] = "fail"
                data[f"item-{item.pk}-note"] = "冷藏柜温度12℃，生熟混放"
                files[f"item-{item.pk}-photo"] = _photo()
            else:
                data[f"item-{item.pk}"] = "pass"
        actions.inspect_business(staff=worker, business_id=noodles.pk, data=data, files=files,
                                 client_key="demo-food-inspection-1")
    fruit = made.get("鲜丰水果超市")
    if fruit is not None and not FoodCase.objects.filter(origin=FoodCase.Origin.COMPLAINT).exists():
        actions.file_complaint(staff=operator, business_id=fruit.pk, source="hotline_12345",
                               description="市民来电反映在该店买到的酸奶已过保质期，要求核查处理。",
                               category="FOOD-EXPIRED", reporter_name="陈女士", reporter_phone="13900001234")


def _market_supervision_handler(schema: str, admin: StaffProfile) -> None:
    """<schema>_samr: a market-supervision handler, who gets the food cases and licence reminders."""
    from civicgrid.platform.accounts.actions import create_staff_member

    department = Department.objects.filter(code="D-SAMR").first()
    username = f"{schema}_samr"
    if department is None or StaffProfile.objects.filter(user__username=username).exists():
        return
    handler = StaffProfile.objects.select_related("user").filter(user__username=f"{schema}_handler").first()
    password_hash = handler.user.password if handler else admin.user.password  # the demo's password
    create_staff_member(username=username, password_hash=password_hash, role=StaffRole.DEPARTMENT_HANDLER,
                        full_name="市场监管局承办人", scope_department=department, acting_user=None)


def _photo() -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (225, 235, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((120, 80, 520, 420), outline=(40, 60, 90), width=8)
    draw.line((120, 250, 520, 250), fill=(40, 60, 90), width=6)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return SimpleUploadedFile("cold.jpg", buffer.getvalue(), content_type="image/jpeg")

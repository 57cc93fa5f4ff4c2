"""Demo data: a few fire-risk units across the demo's grids, the default checklists, and
inspections by the grid worker -- one passed, one failed with its hazard case open.
Called by the demo inside the tenant, after the plugin is on; idempotent."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile

from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.org.models import OrgUnit

from . import actions
from .models import Inspection, RiskUnit
from .risk import recompute_risk_levels
from .selectors import checklist

# (code suffix, name, kind, grid, address)
UNITS = [
    ("001", "幸福里群租房", "rental_house", "T01-C01-G01", "幸福路18号"),
    ("002", "老陈五金店", "small_shop", "T01-C01-G01", "幸福路26号"),
    ("003", "安心小旅馆", "small_lodging", "T01-C01-G02", "平安街3号"),
    ("004", "东园小区电动自行车充电点", "ebike_charging", "T01-C02-G01", "东园小区5幢北侧"),
    ("005", "巧手服装加工作坊", "small_workshop", "T02-C01-G01", "工坊路9号"),
]


def seed_demo(*, tenant) -> None:
    actions.seed_checklists()
    schema = tenant.schema_name
    made = []
    for index, (suffix, name, kind, grid_code, address) in enumerate(UNITS):
        code = f"FR-{tenant.division_code or schema}-{suffix}"
        grid = OrgUnit.objects.filter(code=grid_code, level=OrgUnit.Level.GRID).first()
        if grid is None:
            continue
        unit = RiskUnit.objects.filter(code=code).first()
        if unit is None:
            corner = _corner(grid)
            location = ({"latitude": f"{corner[1] + 0.002 + 0.001 * index:.6f}",
                         "longitude": f"{corner[0] + 0.002 + 0.001 * index:.6f}"} if corner else {})
            unit = actions.save_unit(actor=None, values={
                "code": code, "name": name, "kind": kind, "grid": grid_code, "address": address,
                "contact_name": f"{name[:1]}师傅", "contact_phone": f"1390000{index:04d}", **location})
        made.append(unit)
    worker = (StaffProfile.objects.select_related("user", "scope_org_unit")
              .filter(user__username=f"{schema}_gridworker").first())
    if worker is None or Inspection.objects.exists():
        recompute_risk_levels()
        return
    mine = [unit for unit in made if unit.grid_id == worker.scope_org_unit_id]
    for number, unit in enumerate(mine[:2]):
        failing = number == 0  # the rental house: its passage is blocked
        data, files = {"latitude": str(unit.latitude or ""), "longitude": str(unit.longitude or "")}, {}
        if not data["latitude"]:
            continue
        for position, item in enumerate(checklist(unit.kind)):
            if failing and position == 0:
                data[f"item-{item.pk}"] = "fail"
                data[f"item-{item.pk}-note"] = "一楼楼道堆放纸箱和旧家具，堵住安全出口"
                files[f"item-{item.pk}-photo"] = _photo()
            else:
                data[f"item-{item.pk}"] = "pass"
        actions.inspect_unit(staff=worker, unit_id=unit.pk, data=data, files=files,
                             client_key=f"demo-fire-inspection-{number + 1}")
    recompute_risk_levels()


def _corner(grid) -> tuple[float, float] | None:
    try:
        ring = grid.boundary["coordinates"][0]
        if grid.boundary.get("type") == "MultiPolygon":
            ring = ring[0]
        return min(p[0] for p in ring), min(p[1] for p in ring)
    except (TypeError, KeyError, IndexError, ValueError):
        return None


def _photo() -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (235, 230, 220))
    draw = ImageDraw.Draw(image)
    for x in range(80, 560, 120):
        draw.rectangle((x, 200, x + 100, 420), outline=(120, 80, 40), width=6)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return SimpleUploadedFile("blocked-exit.jpg", buffer.getvalue(), content_type="image/jpeg")

"""Fire-risk units imported from the fire brigade's file through the registry's import
pipeline: reasons per row, all or nothing, the same file twice unchanged."""

from __future__ import annotations

import pytest
from django.utils import translation
from django_tenants.utils import tenant_context

from civicgrid.platform.registry.imports import actions as imports
from civicgrid.platform.registry.imports.models import ImportBatch, ImportRecord
from civicgrid.plugins.builtin.fire_safety.models import RiskUnit
from tests.platform.registry.imports.helpers import csv_bytes, write, xlsx_bytes

from .conftest import staff

pytestmark = pytest.mark.django_db

HEADER = ["单位编号", "单位名称", "类型", "地址", "网格编码", "纬度", "经度", "联系人", "联系电话"]
ROWS = [
    ["FR-IMP-001", "幸福里群租房", "群租房", "幸福路18号", "T01-C01-G01", "30.2451", "120.1751", "王", "13800000001"],
    ["FR-IMP-002", "老陈五金店", "小商店", "幸福路26号", "T01-C01-G01", "30.2452", "120.1752", "陈", ""],
    ["FR-IMP-003", "东园充电点", "ebike_charging", "东园5幢", "T02-C01-G01", "", "", "", ""],
]
MAPPING = dict(zip(HEADER, ["code", "name", "kind", "address", "grid", "latitude", "longitude", "contact_name",
                            "contact_phone"], strict=True))


@pytest.fixture
def on(fire):
    with tenant_context(fire.shangcheng), translation.override("en"):
        yield fire


def run(tmp_path, data: bytes, name: str) -> ImportBatch:
    path = write(tmp_path, name, data)
    admin = staff("shangcheng_admin")
    batch = imports.open_batch(staff=admin, department_code="D-FIRE", file_name=name, path=str(path),
                               target="fire_safety.units")
    imports.map_columns(staff=admin, batch=batch, column_mapping=MAPPING)
    return imports.run_import(batch=batch)


def test_the_brigades_file_through_the_registry_pipeline(on, tmp_path):
    first = run(tmp_path, csv_bytes(ROWS, header=HEADER), "units.csv")
    assert first.status == ImportBatch.Status.APPLIED, first.counts()
    assert first.counts() == {"total": 3, "bad": 0, "new": 3, "updated": 0, "unchanged": 0, "conflicting": 0}
    assert RiskUnit.objects.get(code="FR-IMP-001").kind == "rental_house"
    assert RiskUnit.objects.get(code="FR-IMP-001").risk_computed_on is not None
    again = run(tmp_path, xlsx_bytes(ROWS, header=HEADER), "units.xlsx")
    assert again.counts()["unchanged"] == 3 and again.counts()["new"] == 0 and RiskUnit.objects.count() == 3
    changed = [[*ROWS[0][:1], "幸福里群租房（东）", *ROWS[0][2:]], *ROWS[1:]]
    third = run(tmp_path, csv_bytes(changed, header=HEADER), "changed.csv")
    assert third.counts()["updated"] == 1 and RiskUnit.objects.get(code="FR-IMP-001").name == "幸福里群租房（东）"

    bad_rows = [*ROWS, ["FR-IMP-004", "新店", "castle", "某路", "T01-C01-G01", "30.2", "120.1", "", ""],
                ["FR-IMP-005", "新店", "小商店", "某路", "NO-GRID", "91", "120.1", "", ""]]
    rejected = run(tmp_path, csv_bytes(bad_rows, header=HEADER), "bad.csv")
    assert rejected.status == ImportBatch.Status.REJECTED and rejected.bad_rows == 2
    reasons = {r.line: " ".join(r.errors) for r in ImportRecord.objects.filter(batch_id=rejected.pk, outcome="bad")}
    assert "Unknown kind" in reasons[5] and "no grid" in reasons[6] and "coordinate" in reasons[6]
    assert not RiskUnit.objects.filter(code="FR-IMP-004").exists() and RiskUnit.objects.count() == 3

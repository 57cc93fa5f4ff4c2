"""Schools imported from the education bureau's file: the target's own checks (clean,
current, apply) and the registry's pipeline end to end (reasons per row, all or nothing,
the same file twice changes nothing)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import tenant_context

from civicgrid.platform.registry.imports import actions as imports
from civicgrid.platform.registry.imports.models import ImportBatch, ImportRecord
from civicgrid.platform.registry.imports.records import RowContext
from civicgrid.plugins.builtin.school_surroundings import imports as target
from civicgrid.plugins.builtin.school_surroundings.models import School
from tests.platform.registry.imports.helpers import csv_bytes, write, xlsx_bytes

from .helpers import staff, switch_on

HEADER = ["学校代码", "学校名称", "学校类型", "地址", "网格编码", "纬度", "经度", "在校生数", "上学时间", "放学时间", "周边半径"]
ROWS = [
    ["3301020001", "幸福小学", "小学", "幸福路1号", "T01-C01-G01", "30.2455", "120.175", "860", "07:40", "16:30", "200"],
    ["3301020002", "和平初级中学", "初中", "和平街2号", "T01-C02-G01", "30.246", "120.186", "1240", "7:20", "17:10", ""],
    ["3301020003", "光明幼儿园", "kindergarten", "光明路3号", "T02-C01-G01", "30.245", "120.195", "", "", "", "300"],
]
MAPPING = dict(zip(HEADER, ["code", "name", "kind", "address", "grid", "latitude", "longitude", "pupils", "opens_at",
                            "closes_at", "radius_m"], strict=True))


@pytest.fixture
def on(world):
    switch_on(world)
    with tenant_context(world.shangcheng), translation.override("en"):
        yield world


def values(row) -> dict:
    return {field: cell for field, cell in zip(MAPPING.values(), row, strict=True)}


def test_clean_current_and_apply(on):
    context = RowContext()
    clean = [target.clean(values(row), context) for row in ROWS]
    assert clean[0] == {"code": "3301020001", "name": "幸福小学", "kind": "primary", "address": "幸福路1号",
                        "grid": "T01-C01-G01", "latitude": "30.245500", "longitude": "120.175000", "pupils": 860,
                        "opens_at": "07:40", "closes_at": "16:30", "radius_m": 200}
    assert clean[1]["opens_at"] == "07:20" and clean[1]["radius_m"] == 200 and clean[2]["pupils"] == 0
    assert target.current([c["code"] for c in clean]) == {}
    target.apply(clean, [], actor=None)
    held = target.current([c["code"] for c in clean])
    assert {code: {k: v for k, v in held[code].items() if k in c} for code, c in
            zip(held, sorted(clean, key=lambda c: c["code"]), strict=True)} == {c["code"]: c for c in clean}
    changed = {**clean[0], "radius_m": 250, "name": "幸福小学（本部）"}
    target.apply([], [changed], actor=None)
    school = School.objects.get(code="3301020001")
    assert (school.radius_m, school.name, school.source) == (250, "幸福小学（本部）", "import")

    bad = {
        "kind": {**values(ROWS[0]), "kind": "大学"},
        "grid": {**values(ROWS[0]), "grid": "NO-GRID"},
        "latitude": {**values(ROWS[0]), "latitude": "north"},
        "longitude": {**values(ROWS[0]), "longitude": "190"},
        "radius_m": {**values(ROWS[0]), "radius_m": "9999"},
        "opens_at": {**values(ROWS[0]), "opens_at": "25:99"},
        "closes_at": {**values(ROWS[0]), "opens_at": "17:00", "closes_at": "08:00"},
        "pupils": {**values(ROWS[0]), "pupils": "many"},
        "name": {**values(ROWS[0]), "name": "a\x00b"},
    }
    for field, row in bad.items():
        with pytest.raises(ValidationError) as refused:
            target.clean(row, context)
        assert field in refused.value.message_dict, (field, refused.value.message_dict)


def run(tmp_path, data: bytes, name: str) -> ImportBatch:
    path = write(tmp_path, name, data)
    admin = staff("shangcheng_admin")
    batch = imports.open_batch(staff=admin, department_code="D-EDU", file_name=name, path=str(path),
                               target=target.CODE)
    imports.map_columns(staff=admin, batch=batch, column_mapping=MAPPING)
    return imports.run_import(batch=batch)


def test_the_bureaus_file_through_the_registry_pipeline(on, tmp_path):
    first = run(tmp_path, csv_bytes(ROWS, header=HEADER), "schools.csv")
    assert first.status == ImportBatch.Status.APPLIED, first.counts()
    assert first.counts() == {"total": 3, "bad": 0, "new": 3, "updated": 0, "unchanged": 0, "conflicting": 0}
    assert School.objects.get(code="3301020003").radius_m == 300
    again = run(tmp_path, xlsx_bytes(ROWS, header=HEADER), "schools.xlsx")
    assert again.counts()["unchanged"] == 3 and again.counts()["new"] == 0 and School.objects.count() == 3
    changed = [[*ROWS[0][:10], "250"], *ROWS[1:]]
    third = run(tmp_path, csv_bytes(changed, header=HEADER), "changed.csv")
    assert third.counts()["updated"] == 1 and School.objects.get(code="3301020001").radius_m == 250

    bad_rows = [*ROWS, ["3301020004", "新校", "大学", "某路", "T01-C01-G01", "30.2", "120.1", "", "", "", ""],
                ["3301020005", "新校", "小学", "某路", "NO-GRID", "30.2", "120.1", "", "", "", "5"],
                ["3301020001", "重复", "小学", "某路", "T01-C01-G01", "30.2", "120.1", "", "", "", ""]]
    rejected = run(tmp_path, csv_bytes(bad_rows, header=HEADER), "bad.csv")
    assert rejected.status == ImportBatch.Status.REJECTED and rejected.bad_rows == 3
    reasons = {r.line: " ".join(r.errors) for r in ImportRecord.objects.filter(batch_id=rejected.pk, outcome="bad")}
    assert "Unknown kind" in reasons[5] and "no grid" in reasons[6] and "radius" in reasons[6]
    assert "same" in reasons[7]
    assert School.objects.count() == 3 and not School.objects.filter(code="3301020004").exists()

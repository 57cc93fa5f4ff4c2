"""Food businesses with licences from a market-supervision department's file, through the
registry's import pipeline (target ``food_safety.businesses``, key: the licence number)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django_tenants.utils import tenant_context

from civicgrid.platform.registry.imports import actions, targets
from civicgrid.platform.registry.imports.models import ImportBatch, ImportRecord
from civicgrid.plugins.builtin.food_safety.models import FoodBusiness, Licence
from tests.platform.registry.imports.helpers import csv_bytes, staff, write, xlsx_bytes

TARGET = "food_safety.businesses"
HEADER = ["许可证编号", "名称", "主体类型", "经营地址", "网格编码", "发证日期", "有效期至", "联系电话"]
ROWS = [
    ["JY13301020100001", "老王面馆", "餐饮服务", "幸福路12号", "T01-C01-G01", "2022-01-05", "2027-01-04", "13800000001"],
    ["JY13301020100002", "鲜丰水果", "食品销售", "幸福路30号", "T01-C01-G02", "2021/6/1", "2026/5/31", ""],
    ["JY13301020100003", "百姓大药房", "药品零售", "和平路88号", "T01-C02-G01", "20230301", "20280228", ""],
]


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


def guessed() -> dict:
    """What the mapping page proposes for HEADER (from each field's name, label and spellings)."""
    return targets.guess(targets.plugin_target(TARGET), HEADER)


def run(tmp_path, data: bytes, name="food.csv", mapping=None) -> ImportBatch:
    path = write(tmp_path, name, data)
    admin = staff("shangcheng_admin")
    batch = actions.open_batch(staff=admin, department_code="D-SAMR", file_name=name, path=str(path), target=TARGET)
    actions.map_columns(staff=admin, batch=batch, column_mapping=mapping or guessed())
    return actions.run_import(batch=batch)


def test_a_departments_file_fills_the_register_and_the_same_file_again_changes_nothing(food, tmp_path):
    with tenant_context(food.shangcheng):
        mapping = guessed()
        assert len(mapping) == len(HEADER)
        assert mapping["许可证编号"] == "licence_number" and mapping["网格编码"] == "grid"
        assert mapping["有效期至"] == "licence_expires_on" and mapping["主体类型"] == "kind"

        first = run(tmp_path, csv_bytes(ROWS, header=HEADER), mapping=mapping)
        assert first.status == ImportBatch.Status.APPLIED, first.counts()
        assert first.counts() == {"total": 3, "bad": 0, "new": 3, "updated": 0, "unchanged": 0, "conflicting": 0}
        assert Licence.objects.get(number="JY13301020100002").expires_on == date(2026, 5, 31)
        assert FoodBusiness.objects.get(name="百姓大药房").kind == "pharmacy"

        again = run(tmp_path, csv_bytes(ROWS, header=HEADER), name="again.csv", mapping=mapping)
        assert again.counts()["unchanged"] == 3 and again.counts()["new"] == 0
        assert FoodBusiness.objects.count() == 3

        renewed = [[*ROWS[0][:6], "2032-01-04", ROWS[0][7]], *ROWS[1:]]
        third = run(tmp_path, xlsx_bytes(renewed, header=HEADER), name="renewed.xlsx", mapping=mapping)
        assert third.counts()["updated"] == 1 and third.counts()["unchanged"] == 2
        assert Licence.objects.get(number="JY13301020100001").expires_on == date(2032, 1, 4)


def test_bad_rows_reject_the_file_with_a_reason_each_and_nothing_is_applied(food, tmp_path):
    rows = [*ROWS,
            ["JY13301020100004", "赌场", "赌场", "某路", "T01-C01-G01", "2022-01-01", "2027-01-01", ""],
            ["JY13301020100005", "无网格", "餐饮服务", "某路", "NO-GRID", "2022-01-01", "2027-01-01", ""],
            ["JY13301020100006", "日期错", "餐饮服务", "某路", "T01-C01-G01", "明年", "2021-01-01", ""],
            ["JY13301020100001", "重复", "餐饮服务", "某路", "T01-C01-G01", "2022-01-01", "2027-01-01", ""],
            ["x y", "编号错", "餐饮服务", "某路", "T01-C01-G01", "2022-01-01", "2027-01-01", "123"]]
    with tenant_context(food.shangcheng):
        batch = run(tmp_path, csv_bytes(rows, header=HEADER))
        assert batch.status == ImportBatch.Status.REJECTED
        assert batch.bad_rows == 5 and not FoodBusiness.objects.exists()
        reasons = {r.line: " ".join(r.errors) for r in ImportRecord.objects.filter(batch_id=batch.pk, outcome="bad")}
        assert "Unknown kind 赌场" in reasons[5]
        assert "No grid has the code NO-GRID" in reasons[6]
        assert "YYYY-MM-DD" in reasons[7]
        assert "line 2" in reasons[8]
        assert "licence number" in reasons[9].lower() and "phone" in reasons[9].lower()


def test_the_target_is_only_where_the_module_is_on(world, tmp_path):
    with tenant_context(world.yuhang):
        path = write(tmp_path, "food.csv", csv_bytes(ROWS, header=HEADER))
        with pytest.raises(ValidationError):
            actions.open_batch(staff=staff("yuhang_operator"), department_code="D-SAMR", file_name="food.csv",
                               path=str(path), target=TARGET)

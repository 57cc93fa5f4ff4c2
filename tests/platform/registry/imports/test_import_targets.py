"""Importing into a plugin's registry (an ``ImportTarget``) through the registry's own
pipeline: the same batch, mapping, reasons, report and all-or-nothing rule, only where
the plugin is switched on. The sample plugin's hydrants stand in for a module's registry."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation
from django_tenants.utils import tenant_context

from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.registry.imports import actions, reports
from civicgrid.platform.registry.imports.models import ImportBatch, ImportRecord
from civicgrid.plugins import actions as plugin_actions
from civicgrid.plugins.catalog import sync_catalog
from civicgrid.plugins.models import CatalogEntry

from .helpers import csv_bytes, staff, write, xlsx_bytes

TARGET = "sample.hydrants"
HEADER = ["编号", "所在道路", "网格编码", "检查日期"]
ROWS = [["XF-001", "幸福路", "T01-C01-G01", "2026-11-01"], ["XF-002", "和平街", "T01-C01-G02", ""],
        ["XF-003", "解放路", "T01-C02-G01", "2026-10-15"]]


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def enabled(world):
    if not CatalogEntry.objects.filter(plugin_id="sample").exists():
        sync_catalog()
    plugin_actions.publish_plugin(plugin_id="sample", published=True, acting_user=None)
    plugin_actions.enable_plugin(tenant=world.shangcheng, plugin_id="sample", acting_user=None)
    return world


def hydrants():
    from sample_plugin.models import Hydrant

    return Hydrant.objects


def run(tmp_path, data: bytes, name="hydrants.csv", mapping=None) -> ImportBatch:
    path = write(tmp_path, name, data)
    admin = staff("shangcheng_admin")
    batch = actions.open_batch(staff=admin, department_code="D-FIRE", file_name=name, path=str(path), target=TARGET)
    actions.map_columns(staff=admin, batch=batch, column_mapping=mapping or {h: f for h, f in zip(
        HEADER, ["code", "street", "grid", "checked_on"], strict=True)})
    return actions.run_import(batch=batch)


def report_lines(batch) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(reports.csv_lines(batch)).lstrip("\ufeff"))))


def test_a_file_fills_the_plugins_registry_once_and_a_second_time_changes_nothing(enabled, tmp_path):
    with tenant_context(enabled.shangcheng):
        first = run(tmp_path, csv_bytes(ROWS, header=HEADER))
        assert first.status == ImportBatch.Status.APPLIED
        assert first.counts() == {"total": 3, "bad": 0, "new": 3, "updated": 0, "unchanged": 0, "conflicting": 0}
        assert hydrants().get(code="XF-001").checked_on == date(2026, 11, 1)
        assert AuditEntry.objects.filter(action="registry.import_applied", data__imported=TARGET).count() == 1

        again = run(tmp_path, csv_bytes(ROWS, header=HEADER), name="again.csv")
        assert again.counts()["unchanged"] == 3 and again.counts()["new"] == 0
        assert hydrants().count() == 3

        changed = [["XF-001", "幸福路东段", "T01-C01-G01", "2026-11-01"], *ROWS[1:]]
        third = run(tmp_path, xlsx_bytes(changed, header=HEADER), name="changed.xlsx")
        assert third.counts()["updated"] == 1 and third.counts()["unchanged"] == 2
        assert hydrants().get(code="XF-001").street == "幸福路东段"
        lines = report_lines(third)
        assert lines[0][:6] == ["Line", "Outcome", "编号", "所在道路", "网格编码", "检查日期"]
        assert lines[1][1] == "Updated" and "幸福路 → 幸福路东段" in lines[1][-1]


def test_one_bad_row_rejects_the_batch_with_every_reason_and_nothing_applied(enabled, tmp_path):
    rows = [*ROWS, ["XF-004", "幸福路", "NO-SUCH-GRID", "2026-13-01"], ["XF-001", "重复", "T01-C01-G01", ""],
            ["XF-006", "长" * 2000, "T01-C01-G01", ""],
            ["", "无编号", "T01-C01-G01", ""], ["XF-007", "=HYPERLINK(\"x\")", "T01-C01-G01", ""]]
    with tenant_context(enabled.shangcheng):
        batch = run(tmp_path, csv_bytes(rows, header=HEADER))
        assert batch.status == ImportBatch.Status.REJECTED
        assert batch.bad_rows == 4 and batch.new_rows == 0 and not hydrants().exists()
        reasons = {r.line: r.errors for r in ImportRecord.objects.filter(batch_id=batch.pk, outcome="bad")}
        assert any("no grid" in reason for reason in reasons[5]) and any("not a date" in r for r in reasons[5])
        assert reasons[6] == ["The same 编号 as line 2."]
        assert "longer than 1000" in reasons[7][0] and "required" in reasons[8][0]
        lines = report_lines(batch)
        assert lines[8][3] == "'=HYPERLINK(\"x\")"  # a formula in the file stays text in the report
        assert AuditEntry.objects.filter(action="registry.import_rejected", data__imported=TARGET).exists()

        nul = write(tmp_path, "nul.csv", csv_bytes([["XF-005", "有\x00字符", "T01-C01-G01", ""]], header=HEADER))
        with pytest.raises(ValidationError, match="Line 2 cannot be read"):  # refused at once, nothing kept
            actions.open_batch(staff=staff("shangcheng_admin"), department_code="D-FIRE", file_name="nul.csv",
                               path=str(nul), target=TARGET)
        assert ImportBatch.objects.count() == 1


def test_the_mapping_must_name_the_targets_required_fields(enabled, tmp_path):
    path = write(tmp_path, "h.csv", csv_bytes(ROWS, header=HEADER))
    with tenant_context(enabled.shangcheng):
        admin = staff("shangcheng_admin")
        batch = actions.open_batch(staff=admin, department_code="D-FIRE", file_name="h.csv", path=str(path),
                                   target=TARGET)
        with pytest.raises(ValidationError) as refused:
            actions.map_columns(staff=admin, batch=batch, column_mapping={"编号": "code", "所在道路": "name"})
        assert "name is not something a column can be imported as." in refused.value.messages
        assert "Map a column to 网格编码." in refused.value.messages


def test_a_target_of_a_plugin_switched_off_here_cannot_be_imported(enabled, tmp_path):
    path = write(tmp_path, "h.csv", csv_bytes(ROWS, header=HEADER))
    with tenant_context(enabled.yuhang):
        with pytest.raises(ValidationError, match="cannot be imported here"):
            actions.open_batch(staff=staff("yuhang_admin"), department_code="D-FIRE", file_name="h.csv",
                               path=str(path), target=TARGET)
        assert not ImportBatch.objects.exists()
    with tenant_context(enabled.shangcheng):
        admin = staff("shangcheng_admin")
        batch = actions.open_batch(staff=admin, department_code="D-FIRE", file_name="h.csv", path=str(path),
                                   target=TARGET)
        actions.map_columns(staff=admin, batch=batch, column_mapping={"编号": "code", "所在道路": "street",
                                                                      "网格编码": "grid"})
    plugin_actions.disable_plugin(tenant=enabled.shangcheng, plugin_id="sample", acting_user=None)
    enabled.shangcheng.refresh_from_db()
    with tenant_context(enabled.shangcheng):
        batch = actions.run_import(batch=ImportBatch.objects.get(pk=batch.pk))
        assert batch.status == ImportBatch.Status.FAILED and "not switched on" in batch.error
        assert not hydrants().exists()
    client = Client(HTTP_HOST="shangcheng.localhost", HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(enabled.user("shangcheng_admin"))
    for url in (f"/registry/imports/{batch.pk}/", f"/registry/imports/{batch.pk}/progress/",
                f"/registry/imports/{batch.pk}/report.csv"):
        assert client.get(url).status_code == 404, url  # like the module's own pages
    assert client.get("/registry/imports/").status_code == 200


def test_a_batch_being_run_elsewhere_is_not_run_twice(enabled, tmp_path):
    """A redelivered task finds the batch's lock held by the first run (another connection)."""
    import psycopg
    from django.db import connection

    path = write(tmp_path, "h.csv", csv_bytes(ROWS, header=HEADER))
    with tenant_context(enabled.shangcheng):
        admin = staff("shangcheng_admin")
        batch = actions.open_batch(staff=admin, department_code="D-FIRE", file_name="h.csv", path=str(path),
                                   target=TARGET)
        actions.map_columns(staff=admin, batch=batch, column_mapping={"编号": "code", "所在道路": "street",
                                                                      "网格编码": "grid"})
        settings = connection.settings_dict
        with psycopg.connect(dbname=settings["NAME"], user=settings["USER"], host=settings["HOST"],
                             port=settings["PORT"] or 5432, autocommit=True) as first_run:
            first_run.execute("SELECT pg_advisory_lock(hashtext('shangcheng:import-batch'), %s)", [batch.pk])
            again = actions.run_import(batch=ImportBatch.objects.get(pk=batch.pk))
            assert again.status == ImportBatch.Status.UPLOADED and not hydrants().exists()
        done = actions.run_import(batch=ImportBatch.objects.get(pk=batch.pk))  # the lock is gone with its holder
        assert done.status == ImportBatch.Status.APPLIED and hydrants().count() == 3


def test_the_console_offers_the_target_where_switched_on_and_guesses_the_columns(enabled):
    client = Client(HTTP_HOST="shangcheng.localhost", HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(enabled.user("shangcheng_admin"))
    page = client.get("/registry/imports/")
    assert f'value="{TARGET}"' in page.content.decode()
    file = io.BytesIO(csv_bytes(ROWS, header=["Hydrant No", "所在道路", "网格编码", "检查日期"]))
    file.name = "hydrants.csv"
    answer = client.post("/registry/imports/", {"target": TARGET, "department": "D-FIRE", "file": file})
    assert answer.status_code == 302
    mapping_page = client.get(answer["Location"]).content.decode()
    assert 'data-target="sample.hydrants"' in mapping_page
    assert '<option value="code" selected>' in mapping_page  # "Hydrant No" is one of the field's spellings

    other = Client(HTTP_HOST="yuhang.localhost", HTTP_ACCEPT_LANGUAGE="en")
    other.force_login(enabled.user("yuhang_admin"))
    assert TARGET not in other.get("/registry/imports/").content.decode()
    file.seek(0)
    refused = other.post("/registry/imports/", {"target": TARGET, "department": "D-FIRE", "file": file})
    assert refused.status_code == 400
    with tenant_context(enabled.yuhang):
        assert not ImportBatch.objects.exists()

"""The console's import pages: who may use them, upload → map → run → report,
the size limit, and a real Celery worker running a queued import."""

from __future__ import annotations

import csv
import io
import time

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.org.models import Department
from civicgrid.platform.registry import protection
from civicgrid.platform.registry.imports import actions
from civicgrid.platform.registry.imports.models import ImportBatch, ImportRow
from civicgrid.platform.registry.models import Person

from .helpers import csv_bytes, people, registry_snapshot, staff, write

SHANGCHENG = "shangcheng.localhost"
YUHANG = "yuhang.localhost"
BASE = "/registry/imports/"

ROUTES_COVERED = {
    "registry-imports": "test_import_pages_are_only_for_importers_of_this_tenant",
    "registry-import": "test_import_pages_are_only_for_importers_of_this_tenant",
    "registry-import-progress": "test_import_pages_are_only_for_importers_of_this_tenant",
    "registry-import-report": "test_import_pages_are_only_for_importers_of_this_tenant",
}


def client_for(world, username, host=SHANGCHENG) -> Client:
    client = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.user(username))
    return client


def upload(client, data: bytes, name="psb.csv", department="D-PSB"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(BASE, {"department": department, "file": file})


@pytest.fixture
def stored_files(world):
    """Uploads land in the tenant's file storage, outside the test transaction: remove them."""
    yield
    with tenant_context(world.shangcheng):
        for path in ImportBatch.objects.filter(file_in_storage=True).values_list("file_path", flat=True):
            default_storage.delete(path)


@pytest.fixture
def finished_batch(world, tmp_path, stored_files):
    with tenant_context(world.shangcheng):
        path = write(tmp_path, "done.csv", csv_bytes(people(3, seed=201)))
        from .helpers import import_file

        return import_file(path)


def test_import_pages_are_only_for_importers_of_this_tenant(world, finished_batch):
    urls = [BASE, f"{BASE}{finished_batch.pk}/", f"{BASE}{finished_batch.pk}/progress/",
            f"{BASE}{finished_batch.pk}/report.xlsx", f"{BASE}{finished_batch.pk}/report.csv"]
    with tenant_context(world.shangcheng):
        create_staff_member(username="shangcheng_psb_handler", password="x" * 12, role=StaffRole.DEPARTMENT_HANDLER,
                            scope_department=Department.objects.get(code="D-PSB"), acting_user=None)
        before = (registry_snapshot(), ImportBatch.objects.count())
    outsiders = [client_for(world, "yuhang_admin"), client_for(world, "yuhang_operator"),
                 client_for(world, "shangcheng_gridworker"), client_for(world, "shangcheng_psb_handler")]
    for client in outsiders:
        for url in urls:
            assert client.get(url).status_code == 404, url
        assert upload(client, csv_bytes(people(2, seed=202))).status_code == 404
        assert client.post(f"{BASE}{finished_batch.pk}/", {"column_0": "name"}).status_code == 404
    # Yuhang's own host knows nothing of Shangcheng's batch.
    assert client_for(world, "yuhang_admin", YUHANG).get(f"{BASE}{finished_batch.pk}/").status_code == 404
    assert client_for(world, "yuhang_admin", YUHANG).get(BASE).status_code == 200
    with tenant_context(world.shangcheng):
        assert (registry_snapshot(), ImportBatch.objects.count()) == before
    for username in ("shangcheng_admin", "shangcheng_operator"):
        client = client_for(world, username)
        assert [client.get(url).status_code for url in urls] == [200] * len(urls)
    anonymous = Client(HTTP_HOST=SHANGCHENG).get(BASE)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_upload_map_run_and_download_the_report(world, stored_files):
    client = client_for(world, "shangcheng_operator")
    rows = people(4, seed=203)
    response = upload(client, csv_bytes(rows, encoding="gbk"), name="派出所.csv")
    assert response.status_code == 302
    with tenant_context(world.shangcheng):
        batch = ImportBatch.objects.get()
    assert response["Location"] == f"{BASE}{batch.pk}/"
    assert (batch.status, batch.encoding, batch.created_by_label) == ("uploaded", "gb18030", "shangcheng_operator")

    page = client.get(response["Location"])
    form = page.context["form"]
    prefilled = {form.fields[name].label: form[name].value() for name in form.fields}
    assert prefilled == {"姓名": "name", "身份证号": "id_number", "手机号": "phone", "现住址": "actual_address",
                         "网格编码": "grid"}

    missing = client.post(response["Location"], {"column_0": "name", "column_1": "id_number"})
    assert missing.status_code == 400 and "Map a column to Grid code" in missing.content.decode()
    started = client.post(response["Location"], {f"column_{i}": v for i, v in enumerate(prefilled.values())})
    assert started.status_code == 302
    with tenant_context(world.shangcheng):
        batch.refresh_from_db()
        assert batch.status == ImportBatch.Status.QUEUED
        queued = client.get(f"{BASE}{batch.pk}/progress/").json()
        assert queued["finished"] is False and queued["status"] == "queued" and queued["reports"] == {}
        # What the worker does (the test transaction never commits, so nothing is queued for real).
        actions.run_import(batch=batch)
    state = client.get(f"{BASE}{batch.pk}/progress/").json()
    assert state["finished"] and state["status"] == "applied" and state["percent"] == 100
    assert state["counts"] == {"total": 4, "bad": 0, "new": 4, "updated": 0, "unchanged": 0, "conflicting": 0}
    assert set(state["reports"]) == {"xlsx", "csv"}

    page = client.get(f"{BASE}{batch.pk}/").content.decode()
    assert "report.xlsx" in page and "Applied" in page

    report = client.get(state["reports"]["csv"])
    assert report.status_code == 200 and "attachment" in report["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode("utf-8-sig"))))
    assert len(lines) == 5 and lines[1][3] == protection.mask_id_number(rows[0][1])
    workbook = client.get(state["reports"]["xlsx"])
    sheet = load_workbook(io.BytesIO(b"".join(workbook.streaming_content)), read_only=True).active
    cells = [[str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert cells[1][4] == protection.mask_phone(rows[0][2]) and all(rows[0][1] not in c for c in cells[1])


def test_a_rejected_upload_lists_its_bad_rows(world, stored_files):
    client = client_for(world, "shangcheng_admin")
    rows = people(3, seed=204)
    rows[1][1] = "123"
    assert upload(client, csv_bytes(rows)).status_code == 302
    with tenant_context(world.shangcheng):
        batch = ImportBatch.objects.get()
        before = registry_snapshot()
        actions.queue_import(staff=staff("shangcheng_admin"), batch=batch,
                             column_mapping={"姓名": "name", "身份证号": "id_number", "网格编码": "grid"})
        actions.run_import(batch=batch)
        assert registry_snapshot() == before
    page = client.get(f"{BASE}{batch.pk}/").content.decode()
    assert "Rejected" in page and "17 digits" in page and "<td>3</td>" in page


def test_empty_and_unreadable_uploads_are_refused_at_once(world, stored_files):
    client = client_for(world, "shangcheng_admin")
    for data, message in ((b"", "empty"), (b"\r\n", "The file is empty."),
                          (b"\xff\xfe\x00garbage\n", "neither UTF-8 nor GBK")):
        response = upload(client, data)
        assert response.status_code == 400 and message in response.content.decode()
    with tenant_context(world.shangcheng):
        assert ImportBatch.objects.count() == 0


def test_a_50_mb_upload_is_refused_and_nothing_changes(world, stored_files, tmp_path):
    client = client_for(world, "shangcheng_admin")
    big = tmp_path / "big.csv"
    row = ",".join(people(1, seed=205)[0]).encode() + b"\r\n"
    with open(big, "wb") as out:
        out.write(",".join(["姓名", "身份证号", "手机号", "现住址", "网格编码"]).encode() + b"\r\n")
        out.write(row * (50 * 1024 * 1024 // len(row) + 1))
    with tenant_context(world.shangcheng):
        before = (registry_snapshot(), ImportBatch.objects.count())
    with open(big, "rb") as file:
        response = client.post(BASE, {"department": "D-PSB", "file": file})
    assert response.status_code == 413
    assert "larger than 20.0" in response.content.decode()
    with tenant_context(world.shangcheng):
        assert (registry_snapshot(), ImportBatch.objects.count()) == before


def test_an_upload_over_the_limit_is_stopped_while_it_streams(world, stored_files, settings):
    """A body that does not declare itself too big is still cut off at the limit."""
    settings.CIVICGRID_IMPORT_MAX_UPLOAD_BYTES = 2000
    client = client_for(world, "shangcheng_admin")
    response = upload(client, csv_bytes(people(60, seed=206)))
    assert response.status_code == 413 and "larger than" in response.content.decode()
    with tenant_context(world.shangcheng):
        assert ImportBatch.objects.count() == 0


@pytest.mark.slow
def test_a_queued_import_runs_in_a_worker_in_its_tenant(committed, celery_worker):
    world = committed
    client = client_for(world, "shangcheng_admin")
    rows = people(25, seed=207)
    indexes = [protection.blind_index(r[1], "id") for r in rows]
    batch = None
    try:
        assert upload(client, csv_bytes(rows)).status_code == 302
        with tenant_context(world.shangcheng):
            batch = ImportBatch.objects.order_by("-pk").first()
        mapping = {f"column_{i}": f for i, f in enumerate(["name", "id_number", "phone", "actual_address", "grid"])}
        assert client.post(f"{BASE}{batch.pk}/", mapping).status_code == 302
        deadline = time.monotonic() + 60
        state = {}
        while time.monotonic() < deadline:
            state = client.get(f"{BASE}{batch.pk}/progress/").json()
            if state["finished"]:
                break
            time.sleep(0.2)
        assert state["status"] == "applied", state
        assert state["counts"]["new"] == 25
        with tenant_context(world.shangcheng):
            assert Person.objects.filter(id_number_index__in=indexes, source="dept:D-PSB").count() == 25
        with tenant_context(world.yuhang):
            assert not Person.objects.filter(id_number_index__in=indexes).exists()
    finally:
        with tenant_context(world.shangcheng):
            Person.objects.filter(id_number_index__in=indexes).delete()
            if batch is not None:
                actions.discard_batch(staff=None, batch=batch)
                assert not ImportRow.objects.filter(batch_id=batch.pk).exists()

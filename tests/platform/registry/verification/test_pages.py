"""The console pages: upload, results, downloads; who may use them."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from civicgrid.platform.registry.protection import mask_id_number
from civicgrid.platform.registry.verification import views

from .conftest import SHANGCHENG
from .files import csv_bytes, csv_cells, xlsx_bytes, xlsx_cells

ROUTES_COVERED = {
    "registry-verify": "test_pages_refuse_another_tenant_and_other_roles",
    "registry-verify-result": "test_pages_refuse_another_tenant_and_other_roles",
    "registry-verify-download": "test_pages_refuse_another_tenant_and_other_roles",
}
URL = "/registry/verify/"


def upload(client, data: bytes, name="list.csv", **fields):
    return client.post(URL, {"file": SimpleUploadedFile(name, data), **fields}, HTTP_ACCEPT_LANGUAGE="en")


def run_id_of(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return re.fullmatch(r"/registry/verify/([0-9a-f]{32})/", response["Location"]).group(1)


def sample_rows(setup):
    return [setup.row("zhang"), setup.row("wang", address="别处"),
            {"name": "某人", "id_number": setup.unregistered[0], "address": "某地"},
            {"name": "某人", "id_number": "330106", "address": "某地"}]


def test_upload_shows_counts_and_a_masked_table(setup):
    client = setup.client("shangcheng_operator")
    assert client.get(URL).status_code == 200
    before = setup.audit_count()
    run = run_id_of(upload(client, csv_bytes(sample_rows(setup))))
    assert setup.audit_count() == before + 1
    page = client.get(f"{URL}{run}/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert page.status_code == 200
    for key in ("zhang", "wang"):
        clear = setup.people[key].id_number
        assert clear not in text and mask_id_number(clear) in text
    assert setup.unregistered[0] not in text
    assert "张三" in text and "Consistent" in text and "Not found" in text and "Invalid ID number" in text
    # Counts per outcome, then only one outcome.
    assert re.search(r"Different</div>\s*<div class=\"outcome-count\">1<", text)
    only = client.get(f"{URL}{run}/?outcome=not_found", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert mask_id_number(setup.unregistered[0]) in only and "张三" not in only


def test_gbk_file(setup):
    client = setup.client("shangcheng_admin")
    run = run_id_of(upload(client, csv_bytes([setup.row("zhang"), setup.row("li")], encoding="gbk")))
    cells = csv_cells(client.get(f"{URL}{run}/download.csv", HTTP_ACCEPT_LANGUAGE="en").content)
    assert [c[1] for c in cells[1:]] == ["张三", "李四"]
    assert [c[5] for c in cells[1:]] == ["consistent", "consistent"]


def test_xlsx_file_with_its_own_headers(setup):
    client = setup.client("shangcheng_admin")
    data = xlsx_bytes([setup.row("zhang"), setup.row("li", name="李肆")], header=["Full name", "Citizen ID", "Home"])
    refused = upload(client, data, name="list.xlsx")
    assert refused.status_code == 200 and "No column for" in refused.content.decode()
    run = run_id_of(upload(client, data, name="list.xlsx", name_column="Full name", id_number_column="Citizen ID",
                           address_column="Home"))
    cells = csv_cells(client.get(f"{URL}{run}/download.csv", HTTP_ACCEPT_LANGUAGE="en").content)
    assert [(c[0], c[5], c[6]) for c in cells[1:]] == [("2", "consistent", ""), ("3", "different", "Name")]


def test_downloads_mask_id_numbers(setup):
    client = setup.client("shangcheng_operator")
    run = run_id_of(upload(client, csv_bytes(sample_rows(setup))))
    clear = [setup.people["zhang"].id_number, setup.people["wang"].id_number, setup.unregistered[0]]

    response = client.get(f"{URL}{run}/download.csv", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM for Chinese
    cells = csv_cells(response.content)
    assert cells[0][:3] == ["Line", "Name", "ID number"]
    assert [c[2] for c in cells[1:4]] == [mask_id_number(v) for v in clear]
    assert not any(v in response.content.decode("utf-8-sig") for v in clear)

    response = client.get(f"{URL}{run}/download.xlsx", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = xlsx_cells(response.content)
    assert [r[2] for r in rows[1:4]] == [mask_id_number(v) for v in clear]
    assert [r[5] for r in rows[1:]] == ["consistent", "different", "not_found", "invalid_id"]
    assert not any(v in str(cell) for row in rows for cell in row for v in clear)


def test_formulas_in_a_list_come_back_as_text(setup):
    client = setup.client("shangcheng_admin")
    run = run_id_of(upload(client, csv_bytes([{"name": "=HYPERLINK(\"x\")", "id_number": "1", "address": "+1"}])))
    rows = xlsx_cells(client.get(f"{URL}{run}/download.xlsx").content)
    assert rows[1][1] == "'=HYPERLINK(\"x\")" and rows[1][3] == "'+1"


def test_long_results_are_paginated(setup):
    client = setup.client("shangcheng_admin")
    rows = [setup.row("zhang")] * (views.PAGE_SIZE + 5)
    run = run_id_of(upload(client, csv_bytes(rows)))
    first = client.get(f"{URL}{run}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    second = client.get(f"{URL}{run}/?page=2", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Page 1 of 2" in first and first.count("<tr>") == views.PAGE_SIZE + 1
    assert "Page 2 of 2" in second and second.count("<tr>") == 5 + 1


def test_bad_files_are_refused_and_nothing_is_recorded(setup, monkeypatch):
    client = setup.client("shangcheng_admin")
    before = setup.audit_count()
    empty = upload(client, b"")
    headers_only = upload(client, csv_bytes([]))
    not_text = upload(client, b"\xff\xfe\xfa" * 10 + b"\x81", name="x.bin")
    monkeypatch.setattr(views, "MAX_ROWS_PER_REQUEST", 2)
    too_many = upload(client, csv_bytes([setup.row("zhang")] * 3))
    for response, message in ((headers_only, "no rows below"), (too_many, "At most 2 rows")):
        assert response.status_code == 200 and message in response.content.decode()
    assert empty.status_code == 200 and not_text.status_code == 200
    assert setup.audit_count() == before


def test_a_run_is_only_its_owners(setup):
    run = run_id_of(upload(setup.client("shangcheng_operator"), csv_bytes([setup.row("zhang")])))
    other = setup.client("shangcheng_admin")
    assert other.get(f"{URL}{run}/").status_code == 404
    assert other.get(f"{URL}{run}/download.csv").status_code == 404
    assert other.get(f"{URL}{'0' * 32}/").status_code == 404


def test_township_operator_sees_another_township_as_not_found(setup):
    client = setup.client("vf_township")
    run = run_id_of(upload(client, csv_bytes([setup.row("zhang"), setup.row("li")])))
    cells = csv_cells(client.get(f"{URL}{run}/download.csv").content)
    assert [c[5] for c in cells[1:]] == ["consistent", "not_found"]


def test_anonymous_goes_to_sign_in(setup):
    response = Client(HTTP_HOST=SHANGCHENG).get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("username, host", [
    ("yuhang_operator", SHANGCHENG),      # another tenant's staff on this tenant's host
    ("shangcheng_gridworker", SHANGCHENG),
    ("vf_auditor", SHANGCHENG),
    ("vf_dept_county", SHANGCHENG),       # a county department has no registry scope
    ("prov_admin", SHANGCHENG),
])
def test_pages_refuse_another_tenant_and_other_roles(setup, username, host):
    run = run_id_of(upload(setup.client("shangcheng_operator"), csv_bytes([setup.row("zhang")])))
    before = setup.audit_count()
    client = setup.client(username, host)
    assert client.get(URL).status_code == 404
    assert upload(client, csv_bytes([setup.row("zhang")])).status_code == 404
    assert client.get(f"{URL}{run}/").status_code == 404
    assert client.get(f"{URL}{run}/download.csv").status_code == 404
    assert client.get(f"{URL}{run}/download.xlsx").status_code == 404
    assert setup.audit_count() == before

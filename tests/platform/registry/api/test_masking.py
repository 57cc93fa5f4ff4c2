"""ID numbers and phones leave the server masked, in every format: JSON, HTML, CSV, XLSX."""

import io
from unittest import mock

import pytest
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.registry import exports
from civicgrid.platform.registry.protection import mask_id_number, mask_name, mask_phone

from .conftest import EVERYONE

KINDS = ["persons", "households", "buildings", "houses", "places", "organisations", "things", "care-records"]


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def xlsx_text(response) -> str:
    workbook = load_workbook(io.BytesIO(body(response)), read_only=True)
    return "\n".join("\t".join("" if v is None else str(v) for v in row)
                     for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True))


def assert_nothing_clear(registry, text: str, where: str = ""):
    for clear in [*registry.clear_ids.values(), *registry.clear_phones.values()]:
        assert clear not in text, where
        # Nor in pieces a reader could put back together (e.g. 3301021969…).
        assert clear[:12] not in text, where


def everything_an_admin_reads(registry) -> dict[str, str]:
    client = registry.client("shangcheng_admin")
    person = registry.persons[0]
    outputs = {
        "json list": client.get("/api/v1/registry/persons/?limit=500").content.decode(),
        "json detail": client.get(f"/api/v1/registry/persons/{person.pk}/").content.decode(),
        "html list": client.get("/registry/persons/").content.decode(),
        "html detail": client.get(f"/registry/persons/{person.pk}/").content.decode(),
        "html care list": client.get("/registry/care-records/").content.decode(),
        "json care": client.get("/api/v1/registry/care-records/").content.decode(),
    }
    for kind in KINDS:
        outputs[f"{kind} csv"] = body(client.get(f"/api/v1/registry/{kind}/export.csv")).decode("utf-8-sig")
        outputs[f"{kind} xlsx"] = xlsx_text(client.get(f"/api/v1/registry/{kind}/export.xlsx"))
    return outputs


def test_the_clear_id_and_phone_never_appear_in_any_output(registry):
    outputs = everything_an_admin_reads(registry)
    for name, text in outputs.items():
        assert_nothing_clear(registry, text, name)
    person = registry.persons[0]
    masked_id = mask_id_number(registry.clear_ids[person.pk])
    masked_phone = mask_phone(registry.clear_phones[person.pk])
    for name in ("json list", "json detail", "html list", "html detail", "persons csv", "persons xlsx"):
        assert masked_id in outputs[name], name
    for name in ("json list", "json detail", "html list", "html detail", "persons csv", "persons xlsx"):
        assert masked_phone in outputs[name], name


def test_exports_have_one_row_per_record_and_a_header(registry):
    client = registry.client("shangcheng_admin")
    csv = body(client.get("/api/v1/registry/persons/export.csv")).decode("utf-8-sig").strip().splitlines()
    assert len(csv) == 1 + len(registry.persons)
    sheet = load_workbook(io.BytesIO(body(client.get("/api/v1/registry/persons/export.xlsx"))),
                          read_only=True).worksheets[0]
    assert len(list(sheet.iter_rows(values_only=True))) == 1 + len(registry.persons)


def test_export_responses_are_files(registry):
    client = registry.client("shangcheng_admin")
    csv = client.get("/api/v1/registry/persons/export.csv")
    xlsx = client.get("/api/v1/registry/persons/export.xlsx")
    assert csv["Content-Type"].startswith("text/csv") and "attachment" in csv["Content-Disposition"]
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in xlsx["Content-Disposition"]
    assert client.get("/api/v1/registry/persons/export.pdf").status_code == 404


def test_sensitive_care_exports_mask_the_name(registry):
    client = registry.client("shangcheng_admin")
    person = registry.persons[0]
    csv = body(client.get("/api/v1/registry/care-records/export.csv?kind=released")).decode("utf-8-sig")
    assert mask_name(person.name) in csv and person.name not in csv


def test_spreadsheet_formulas_are_defused(registry):
    client = registry.client("shangcheng_admin")
    created = client.post("/api/v1/registry/households/", {"number": "HH-F", "address": "=HYPERLINK(\"x\")",
                                                            "grid": "T01-C01-G01"}, content_type="application/json")
    assert created.status_code == 201
    csv = body(client.get("/api/v1/registry/households/export.csv?name=HH-F")).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv


@pytest.mark.parametrize("username", EVERYONE)
def test_no_role_receives_clear_values(registry, username):
    client = registry.client(username)
    texts = [client.get("/api/v1/registry/persons/").content.decode(),
             client.get("/registry/persons/").content.decode(),
             body(client.get("/api/v1/registry/persons/export.csv")).decode("utf-8-sig"),
             xlsx_text(client.get("/api/v1/registry/persons/export.xlsx"))]
    for person in registry.persons:
        response = client.get(f"/registry/persons/{person.pk}/")
        if response.status_code == 200:
            texts.append(response.content.decode())
    for text in texts:
        assert_nothing_clear(registry, text)


def test_large_xlsx_exports_are_refused_before_anything_is_read(registry):
    client = registry.client("shangcheng_admin")
    with mock.patch.object(exports, "XLSX_MAX_ROWS", 3):
        refused = client.get("/api/v1/registry/persons/export.xlsx", HTTP_ACCEPT_LANGUAGE="en")
        assert refused.status_code == 400 and "export CSV" in refused.json()["format"][0]
        assert client.get("/api/v1/registry/persons/export.xlsx?grid=T01-C01-G01").status_code == 200
        assert client.get("/api/v1/registry/persons/export.csv").status_code == 200
    with tenant_context(registry.tenant):
        # Only the two exports that went out showed the sensitive record.
        assert AuditEntry.objects.filter(action="registry.sensitive_read").count() == 2

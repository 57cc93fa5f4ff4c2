"""Care records: each role sees only the kinds granted to it, every read that shows a
sensitive record is audited once, and values are checked against their kind."""

import json

import pytest
from django_tenants.utils import tenant_context

from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.registry.models import CareKind, CareRecord

from .conftest import counts


def sensitive_reads(registry) -> list[AuditEntry]:
    with tenant_context(registry.tenant):
        return list(AuditEntry.objects.filter(action="registry.sensitive_read"))


def drain(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("url", [
    "/api/v1/registry/persons/{person}/",
    "/api/v1/registry/persons/",
    "/api/v1/registry/persons/export.csv",
    "/api/v1/registry/persons/export.xlsx",
    "/api/v1/registry/care-records/",
    "/api/v1/registry/care-records/{released}/",
    "/api/v1/registry/care-records/export.csv",
    "/api/v1/registry/care-records/export.xlsx",
    "/registry/persons/",
    "/registry/persons/{person}/",
    "/registry/care-records/",
])
def test_every_read_showing_a_sensitive_record_writes_one_audit_row(registry, url):
    client = registry.client("shangcheng_admin")
    url = url.format(person=registry.persons[0].pk, released=registry.records["released_record"].pk)
    response = client.get(url)
    assert response.status_code == 200
    drain(response)
    rows = sensitive_reads(registry)
    assert len(rows) == 1, url
    assert rows[0].data["records"] == [registry.records["released_record"].pk]
    assert rows[0].data["kinds"] == ["released"] and rows[0].actor_label == "shangcheng_admin"


def test_reads_without_sensitive_records_are_not_audited(registry):
    client = registry.client("shangcheng_admin")
    for url in (f"/api/v1/registry/care-records/{registry.records['dibao_record'].pk}/",
                f"/api/v1/registry/persons/{registry.persons[1].pk}/", "/api/v1/registry/care-records/?kind=dibao",
                f"/registry/persons/{registry.persons[1].pk}/"):
        assert client.get(url).status_code == 200
    assert sensitive_reads(registry) == []


def test_a_kind_not_granted_is_invisible(registry):
    client = registry.client("shangcheng_gridworker")
    person = registry.persons[0]
    listed = {k["code"] for k in client.get("/api/v1/registry/care-kinds/").json()["results"]}
    with tenant_context(registry.tenant):
        granted = set(CareKind.objects.filter(granted_roles__contains=["grid_worker"]).values_list("code", flat=True))
    assert "dibao" in listed and "released" not in listed and listed == granted
    assert client.get("/api/v1/registry/care-kinds/released/").status_code == 404
    assert client.get("/api/v1/registry/care-kinds/dibao/").json()["fields"][0]["name"] == "monthly_allowance"
    assert client.get(f"/api/v1/registry/persons/{person.pk}/").json()["care_kinds"] == ["dibao"]
    records = client.get("/api/v1/registry/care-records/").json()
    assert [r["kind"] for r in records["results"]] == ["dibao"]
    assert client.get(f"/api/v1/registry/care-records/{registry.records['released_record'].pk}/").status_code == 404
    page = client.get(f"/registry/persons/{person.pk}/").content.decode()
    assert "低保" in page and "刑满释放" not in page and "2023-05-06" not in page
    csv = drain(client.get("/api/v1/registry/care-records/export.csv")).decode("utf-8-sig")
    assert "刑满释放" not in csv
    assert sensitive_reads(registry) == []
    # A department handler is granted no kind at all.
    assert registry.client("sc_dept_township").get("/api/v1/registry/care-kinds/").json()["count"] == 0


def test_writing_a_kind_not_granted_is_refused(registry):
    before = counts(registry.tenant)
    response = registry.client("shangcheng_gridworker").post(
        "/api/v1/registry/care-records/", {"person": registry.persons[-1].pk, "kind": "released",
                                           "values": {"released_on": "2024-01-01"}}, content_type="application/json")
    assert response.status_code == 400 and "kind" in response.json()
    assert counts(registry.tenant) == before


def test_care_values_are_checked_against_the_kind(registry):
    client = registry.client("shangcheng_gridworker")
    before = counts(registry.tenant)
    response = client.post("/api/v1/registry/care-records/", {
        "person": registry.persons[-1].pk, "kind": "dibao",
        "values": {"since": "2024-02-30", "level": "C", "colour": "red"}}, content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    errors = response.json()["values"]
    assert set(errors) == {"monthly_allowance", "since", "level", "colour"}
    assert "required" in errors["monthly_allowance"][0] and "date" in errors["since"][0]
    assert counts(registry.tenant) == before

    created = client.post("/api/v1/registry/care-records/", {
        "person": registry.persons[-1].pk, "kind": "dibao",
        "values": {"monthly_allowance": "650", "level": "B"}}, content_type="application/json")
    assert created.status_code == 201 and created.json()["values"] == {"monthly_allowance": "650", "level": "B"}


def test_patch_changes_some_values_and_refuses_bad_ones(registry):
    client = registry.client("shangcheng_gridworker")
    record = registry.records["dibao_record"]
    url = f"/api/v1/registry/care-records/{record.pk}/"
    bad = client.patch(url, json.dumps({"values": {"monthly_allowance": "lots"}}), content_type="application/json")
    assert bad.status_code == 400 and set(bad.json()["values"]) == {"monthly_allowance"}
    with tenant_context(registry.tenant):
        assert CareRecord.objects.get(pk=record.pk).values == record.values
    good = client.patch(url, json.dumps({"values": {"monthly_allowance": "900"}}), content_type="application/json")
    assert good.status_code == 200
    assert good.json()["values"] == {"monthly_allowance": "900", "since": "2024-01-01"}


def test_care_records_of_persons_out_of_scope_are_invisible(registry):
    record = registry.records["dibao_record"]  # about a person in T01-C01-G01
    client = registry.client("sc_dept_township")  # T01 subtree, but no granted kind
    assert client.get(f"/api/v1/registry/care-records/{record.pk}/").status_code == 404
    other = registry.client("shangcheng_operator")
    assert other.get(f"/api/v1/registry/care-records/{record.pk}/").status_code == 200
    assert other.get("/api/v1/registry/care-records/?grid=T02").json()["count"] == 0

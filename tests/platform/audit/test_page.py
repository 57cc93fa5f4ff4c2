"""The audit page (/audit/): for the tenant's auditors and county admin only (404 for other
roles and other tenants, nothing written), filters, newest first, paged, CSV and XLSX of
the filtered rows, the chain's state; reading and exporting are audited themselves."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from openpyxl import load_workbook

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.audit.actions import record
from civicgrid.platform.audit.models import AuditEntry
from tests.world import PASSWORD

from .helpers import trigger_disabled

ROUTES_COVERED = {
    "audit-page": "test_the_page_is_for_auditors_and_county_admins_of_this_tenant_only",
}

SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"
URL = "/audit/"


@pytest.fixture
def auditor(world):
    with tenant_context(world.shangcheng):
        return create_staff_member(username="shangcheng_auditor", password=PASSWORD, role=StaffRole.AUDITOR,
                                   acting_user=None).user


def client_for(user, host=SHANGCHENG) -> Client:
    client = Client(HTTP_HOST=host)
    client.force_login(user)
    return client


def audit_rows(tenant, action) -> int:
    with tenant_context(tenant):
        return AuditEntry.objects.filter(action=action).count()


def test_the_page_is_for_auditors_and_county_admins_of_this_tenant_only(world, auditor):
    views_before = audit_rows(world.shangcheng, "audit.view")
    for name in ("shangcheng_operator", "shangcheng_gridworker", "yuhang_operator", "yuhang_admin", "prov_admin"):
        client = client_for(world.user(name))
        assert client.get(URL).status_code == 404, name
        assert client.get(URL, {"format": "csv"}).status_code == 404, name
    assert client_for(auditor, YUHANG).get(URL).status_code == 404  # another county's host
    assert client_for(world.user("shangcheng_admin"), YUHANG).get(URL).status_code == 404
    assert Client(HTTP_HOST=SHANGCHENG).get(URL).status_code == 302  # anonymous: to sign-in
    assert audit_rows(world.shangcheng, "audit.view") == views_before  # refusals read nothing
    assert audit_rows(world.yuhang, "audit.view") == 0

    for user in (auditor, world.user("shangcheng_admin")):
        page = client_for(user).get(URL)
        assert page.status_code == 200
        assert f'href="{URL}"' in page.content.decode()  # the navigation's entry
    assert audit_rows(world.shangcheng, "audit.view") == views_before + 2
    operator_home = client_for(world.user("shangcheng_operator")).get("/").content.decode()
    assert f'href="{URL}"' not in operator_home


def test_filters_order_and_paging(world, auditor):
    with tenant_context(world.shangcheng):
        operator = world.user("shangcheng_operator")
        start_id = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
        for n in range(55):
            record(action="test.page", actor=operator, purpose=f"核查第{n}号", n=n)
        marked = record(action="test.other", actor=auditor, target=operator, purpose="调阅户籍信息")
    client = client_for(auditor)

    page = client.get(URL, {"action": "test.page"})
    rows = page.context["rows"]
    assert page.context["page"].paginator.count == 55 and len(rows) == 50
    ids = [row["entry"].pk for row in rows]
    assert ids == sorted(ids, reverse=True) and ids[0] > start_id  # newest first
    assert page.context["page"].number == 1
    second = client.get(URL, {"action": "test.page", "page": 2})
    assert len(second.context["rows"]) == 5 and "核查第0号" in second.content.decode()

    def found(**filters):
        return [row["entry"].pk for row in client.get(URL, filters).context["rows"]]

    assert found(text="户籍") == [marked.pk]
    assert found(actor="shangcheng_auditor", action="test.other") == [marked.pk]
    assert found(target_type="accounts.user", target_id=str(operator.pk), action="test.other") == [marked.pk]
    assert found(target_id="no-such-id") == []
    today = timezone.localdate()
    assert marked.pk in found(start=today.isoformat(), end=today.isoformat())
    assert found(start=(today + timedelta(days=1)).isoformat()) == []
    assert found(end=(today - timedelta(days=1)).isoformat(), action="test.other") == []

    # Bad input: a clear error, no rows, no 500.
    bad = client.get(URL, {"start": today.isoformat(), "end": (today - timedelta(days=3)).isoformat()})
    assert bad.status_code == 200 and bad.context["rows"] == [] and bad.context["form"].errors
    assert client.get(URL, {"start": "2026-02-31", "action": "no.such"}).status_code == 200
    assert client.get(URL, {"page": "x"}).status_code == 200


def test_exports_hold_the_filtered_rows_and_are_audited(world, auditor):
    with tenant_context(world.shangcheng):
        for n in range(3):
            record(action="test.export", actor=auditor, purpose="=HYPERLINK(\"http://x\")" if n == 0 else f"目的{n}",
                   n=n)
    client = client_for(auditor)
    exports_before = audit_rows(world.shangcheng, "audit.export")

    response = client.get(URL, {"action": "test.export", "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert len(table) == 1 + 3
    assert {line[3] for line in table[1:]} == {"test.export"}
    assert "'=HYPERLINK" in text  # a formula stays text
    with tenant_context(world.shangcheng):
        hashes = set(AuditEntry.objects.filter(action="test.export").values_list("row_hash", flat=True))
    assert {line[-1] for line in table[1:]} == hashes  # the hashes travel with the rows

    response = client.get(URL, {"action": "test.export", "text": "目的", "format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    assert len(values) == 1 + 2 and {row[6] for row in values[1:]} == {"目的1", "目的2"}

    assert audit_rows(world.shangcheng, "audit.export") == exports_before + 2
    with tenant_context(world.shangcheng):
        last = AuditEntry.objects.filter(action="audit.export").latest("id")
    assert last.actor_label == "shangcheng_auditor" and last.data["rows"] == 2
    assert last.data["filters"] == {"action": "test.export", "text": "目的"} and last.data["format"] == "xlsx"


def test_the_page_shows_the_chain_state(world, auditor):
    client = client_for(auditor)
    page = client.get(URL)
    status = page.context["status"]
    assert status.ok and status.verified_up_to and 'data-chain="ok"' in page.content.decode()
    with tenant_context(world.shangcheng):
        victim = record(action="test.victim", purpose="原文")
        record(action="test.after")
        with trigger_disabled() as cursor:
            cursor.execute("UPDATE audit_auditentry SET purpose = '改' WHERE id = %s", [victim.pk])
    page = client.get(URL)
    assert not page.context["status"].ok and page.context["status"].broken_id == victim.pk
    assert 'data-chain="broken"' in page.content.decode()

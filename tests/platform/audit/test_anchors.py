"""Anchoring the audit chain: each schema's head published to the province's anchor table
and its object storage, and ``civicgrid audit verify`` failing, naming the anchor, when the
newest rows were deleted or the chain rewritten below it (as a superuser would: the
append-only trigger switched off)."""

from __future__ import annotations

import io
import json

from django.core.files.storage import default_storage
from django.core.management import call_command
from django_tenants.utils import schema_context, tenant_context

from civicgrid.config.settings.base import CELERY_BEAT_SCHEDULE
from civicgrid.platform.audit.actions import record
from civicgrid.platform.audit.models import AuditAnchor
from civicgrid.platform.audit.tasks import anchor_all_schemas

from .helpers import rechain_everything, trigger_disabled
from .test_chain import failing_verify, run_verify


def anchor(*args) -> str:
    out = io.StringIO()
    call_command("audit", "anchor", *args, stdout=out)
    return out.getvalue()


def test_anchoring_publishes_every_schemas_head_to_the_table_and_to_storage(world):
    with tenant_context(world.shangcheng):
        head = record(action="test.anchor", purpose="锚定")
    out = anchor()
    rows = {a.schema: a for a in AuditAnchor.objects.filter(file__isnull=False).order_by("id")}
    assert {"public", "shangcheng", "yuhang", "hangzhou"} <= set(rows)
    assert (rows["shangcheng"].row_id, rows["shangcheng"].row_hash) == (head.pk, head.row_hash)
    assert f"shangcheng: head row {head.pk} {head.row_hash} anchored" in out
    with schema_context("public"):  # the province's storage, where the archives are
        lines = [json.loads(line) for line in default_storage.open(rows["shangcheng"].file).read().splitlines()]
    assert {"schema": "shangcheng", "row_id": head.pk, "row_hash": head.row_hash}.items() <= next(
        line for line in lines if line["schema"] == "shangcheng").items()
    with tenant_context(world.shangcheng):  # the tenant's own copy of the table stays empty
        assert not AuditAnchor.objects.exists()
    out, _ = run_verify("--all")
    assert f"anchor {rows['shangcheng'].pk} of" in out and "reached" in out


def test_deleting_the_newest_rows_after_anchoring_fails_verify_naming_the_anchor(world):
    with tenant_context(world.shangcheng):
        record(action="test.anchor", purpose="锚定前")
    anchor("--tenant", "shangcheng")
    anchored = AuditAnchor.objects.filter(schema="shangcheng").latest("id")
    with tenant_context(world.shangcheng):
        record(action="test.anchor", purpose="锚定后")
        with trigger_disabled() as cursor:  # the anchored row and everything after it
            cursor.execute("DELETE FROM audit_auditentry WHERE id >= %s", [anchored.row_id])
    err = failing_verify("--tenant", "shangcheng")
    assert f"row {anchored.row_id} of anchor {anchored.pk} of" in err and "the newest rows were deleted" in err
    run_verify("--tenant", "yuhang")  # another tenant's chain and anchor are not concerned


def test_a_chain_rewritten_from_the_start_fails_verify_against_its_anchor(world):
    with tenant_context(world.shangcheng):
        record(action="test.anchor", purpose="改写前")
    anchor("--tenant", "shangcheng")
    anchored = AuditAnchor.objects.filter(schema="shangcheng").latest("id")
    with tenant_context(world.shangcheng):
        with trigger_disabled() as cursor:
            cursor.execute("UPDATE audit_auditentry SET purpose = '改写' WHERE id = %s", [anchored.row_id])
        rechain_everything()  # every hash recomputed: the chain alone verifies again
    err = failing_verify("--tenant", "shangcheng")
    assert f"row {anchored.row_id} no longer has the hash of anchor {anchored.pk}" in err
    assert "rewritten" in err


def test_rows_added_after_the_anchor_are_fine_and_the_beat_job_anchors_again(world):
    anchor("--public")
    with tenant_context(world.shangcheng):
        record(action="test.anchor", purpose="之后")
    run_verify("--tenant", "shangcheng")
    assert anchor_all_schemas.run() >= 4
    assert CELERY_BEAT_SCHEDULE["audit-anchor"]["task"] == anchor_all_schemas.name

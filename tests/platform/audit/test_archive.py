"""Archiving: rows older than six months go to the tenant's storage as JSON lines with a
manifest, leave the table through the one DELETE the trigger allows, and the chain goes
on from the anchor the ``audit.archive`` row names; ``verify --with-archives`` re-checks
the files. Nothing younger than six months leaves, and a broken chain is not archived."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.audit import archives, verify
from civicgrid.platform.audit.actions import archive_before, record
from civicgrid.platform.audit.models import AuditEntry

from .helpers import rechain_everything, trigger_disabled


def verify_output(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", *args, "--no-progress", stdout=out, stderr=err)
    except CommandError:
        return "FAILED\n" + out.getvalue() + err.getvalue()
    return out.getvalue() + err.getvalue()


def age_first_rows(count: int, days: int = 400) -> list[int]:
    """Time travel: the first ``count`` rows become ``days`` old, and the chain is
    computed again over them (as the migration would have for rows that old)."""
    ids = list(AuditEntry.objects.order_by("id").values_list("id", flat=True)[:count])
    with trigger_disabled() as cursor:
        cursor.execute("UPDATE audit_auditentry SET at = at - %s WHERE id <= %s", [timedelta(days=days), ids[-1]])
    rechain_everything()
    return ids


@pytest.fixture
def stored_archives():
    """The files an archive writes are real files: removed after the test."""
    names = []
    yield names
    for tenant, name in names:
        with tenant_context(tenant):
            default_storage.delete(name)


def test_archive_then_verify_from_the_anchor_and_recheck_the_files(world, stored_archives):
    with tenant_context(world.shangcheng):
        old = age_first_rows(5)
        total = AuditEntry.objects.count()
        result = archive_before(before=timezone.localdate() - timedelta(days=200), acting_user=None,
                                purpose="年度归档")
        stored_archives += [(world.shangcheng, result.archive), (world.shangcheng, result.manifest)]
        assert result.count == 5
        assert result.archive.startswith("audit/archive/shangcheng-") and result.archive.endswith(".jsonl")
        assert not AuditEntry.objects.filter(id__in=old).exists()
        assert AuditEntry.objects.count() == total - 5 + 1
        anchor = AuditEntry.objects.filter(action="audit.archive").latest("id")
        assert anchor.data["archive"] == result.archive and anchor.data["last_hash"] == result.last_hash
        assert anchor.data["count"] == 5 and anchor.purpose == "年度归档"
        first_left = AuditEntry.objects.order_by("id").first()
        assert first_left.prev_hash == result.last_hash
        with default_storage.open(result.manifest) as handle:
            manifest = json.loads(handle.read())
        with default_storage.open(result.archive) as handle:
            lines = [json.loads(line) for line in handle]
        assert [line["id"] for line in lines] == old
        assert manifest["count"] == 5 and manifest["last_hash"] == lines[-1]["row_hash"]
        assert manifest["file_sha256"] == anchor.data["file_sha256"]
        assert manifest["prev_hash"] == lines[0]["prev_hash"] == "0" * 64

    out = verify_output("--tenant", "shangcheng", "--with-archives")
    assert "FAILED" not in out, out
    assert "chain intact" in out and "1 archive(s), 5 archived rows re-checked, intact" in out

    # An archive file changed afterwards: the re-check names it; the table alone still verifies.
    with tenant_context(world.shangcheng):
        with default_storage.open(result.archive) as handle:
            text = handle.read().decode()
        default_storage.delete(result.archive)
        default_storage.save(result.archive, ContentFile(text.replace('"purpose":""', '"purpose":"改"', 1).encode()))
    out = verify_output("--tenant", "shangcheng", "--with-archives")
    assert "FAILED" in out and f"archive broken: {result.archive}: row {old[0]}: its content does not match" in out
    assert "FAILED" not in verify_output("--tenant", "shangcheng")

    # The first row left in the table removed: the anchor no longer meets it.
    with tenant_context(world.shangcheng), trigger_disabled() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [first_left.pk])
    out = verify_output("--tenant", "shangcheng")
    assert "FAILED" in out and "its previous hash does not match" in out


def test_a_second_archive_links_back_to_the_first(world, stored_archives):
    with tenant_context(world.shangcheng):
        age_first_rows(6)
        cut = timezone.localdate() - timedelta(days=200)
        # First archive: the first three rows only (the others made a day younger than the cut).
        ids = list(AuditEntry.objects.order_by("id").values_list("id", flat=True)[:6])
        with trigger_disabled() as cursor:
            cursor.execute("UPDATE audit_auditentry SET at = %s WHERE id > %s AND id <= %s",
                           [timezone.now() - timedelta(days=199), ids[2], ids[5]])
        rechain_everything()
        first = archive_before(before=cut, acting_user=None)
        assert first.count == 3
        second = archive_before(before=timezone.localdate() - timedelta(days=190), acting_user=None)
        stored_archives += [(world.shangcheng, name) for name in
                            (first.archive, first.manifest, second.archive, second.manifest)]
        assert second.count == 3
        check = archives.recheck(second.manifest, expected_last_hash=verify.anchor_hash())
        assert check.ok, check.problem
        assert check.archives == [second.archive, first.archive] and check.rows == 6
    out = verify_output("--tenant", "shangcheng", "--with-archives")
    assert "2 archive(s), 6 archived rows re-checked, intact" in out, out


def test_archive_refuses_a_date_newer_than_six_months(world):
    with tenant_context(world.shangcheng):
        count = AuditEntry.objects.count()
        with pytest.raises(ValidationError, match="至少保存六个月|at least six months"):
            archive_before(before=timezone.localdate() - timedelta(days=100), acting_user=None)
        assert AuditEntry.objects.count() == count
    with pytest.raises(CommandError, match="six months|六个月"):
        call_command("audit", "archive", "--tenant", "shangcheng", "--before",
                     (timezone.localdate() - timedelta(days=30)).isoformat(), "--no-progress",
                     stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("audit", "archive", "--tenant", "shangcheng", "--before", "2026-13-40", stdout=io.StringIO())


def test_archive_refuses_a_broken_chain_and_changes_nothing(world):
    with tenant_context(world.shangcheng):
        age_first_rows(4)
        victim = AuditEntry.objects.order_by("id")[1]
        with trigger_disabled() as cursor:
            cursor.execute("UPDATE audit_auditentry SET purpose = '篡改' WHERE id = %s", [victim.pk])
        count = AuditEntry.objects.count()
        with pytest.raises(ValidationError) as refused:
            archive_before(before=timezone.localdate() - timedelta(days=200), acting_user=None)
        assert str(victim.pk) in " ".join(refused.value.messages)
        assert AuditEntry.objects.count() == count


def test_the_newest_row_always_stays(world, stored_archives):
    with tenant_context(world.yuhang):
        total = AuditEntry.objects.count()
        age_first_rows(total)  # every row is old: the tenant was quiet for a year
        result = archive_before(before=timezone.localdate() - timedelta(days=200), acting_user=None)
        stored_archives += [(world.yuhang, result.archive), (world.yuhang, result.manifest)]
        assert result.count == total - 1
        assert AuditEntry.objects.count() == 2  # the newest old row and the archive row
        record(action="test.after_archive")
        assert verify.verify_rows().ok


def test_the_monthly_job_keeps_at_least_six_months(world, settings, stored_archives):
    from django.core.exceptions import ImproperlyConfigured

    from civicgrid.platform.audit.tasks import archive_tenant, retention_cutoff

    settings.CIVICGRID_AUDIT_RETENTION_DAYS = 120
    with pytest.raises(ImproperlyConfigured, match="at least 183 days"):
        retention_cutoff()
    settings.CIVICGRID_AUDIT_RETENTION_DAYS = 365
    assert retention_cutoff() == timezone.localdate() - timedelta(days=365)
    with tenant_context(world.yuhang):
        assert archive_tenant.run() == 0  # nothing a year old yet (run: the body, in this schema)
        age_first_rows(3, days=500)
        moved = archive_tenant.run()
        newest = AuditEntry.objects.filter(action="audit.archive").latest("id")
        stored_archives += [(world.yuhang, newest.data["archive"]), (world.yuhang, newest.data["manifest"])]
        assert moved == 3 and newest.purpose == "retention"
    with pytest.raises(RuntimeError, match="tenant schema"):
        archive_tenant.run()

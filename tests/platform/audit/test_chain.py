"""The audit trail's hash chain: written by ``record`` under a per-schema lock, proven by
``civicgrid audit verify``, broken by any row altered, removed or slipped in (the tests
tamper with real rows, the append-only trigger switched off as a superuser would)."""

from __future__ import annotations

import hashlib
import io
import json
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_context, tenant_context

from civicgrid.platform.audit import chain, verify
from civicgrid.platform.audit.actions import record
from civicgrid.platform.audit.models import AuditEntry

from .helpers import forged_row, rechain_everything, trigger_disabled


def run_verify(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("audit", "verify", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def failing_verify(*args) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError, match="audit chain broken in"):
        call_command("audit", "verify", *args, "--no-progress", stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def test_rows_are_chained_in_insertion_order_and_verify_passes(world):
    with tenant_context(world.shangcheng):
        before = AuditEntry.objects.count()
        written = [record(action="test.chain", purpose=f"第{n}条", n=n) for n in range(3)]
        rows = list(AuditEntry.objects.order_by("id"))
        for previous, row in zip(rows, rows[1:], strict=False):
            assert row.prev_hash == previous.row_hash
        assert rows[0].prev_hash == chain.GENESIS
        assert [row.pk for row in rows[-3:]] == [entry.pk for entry in written]
    out, err = run_verify("--tenant", "shangcheng")
    assert f"shangcheng: {before + 3} rows checked" in out and "chain intact" in out, err
    assert f"head {written[-1].row_hash}" in out
    out, _ = run_verify("--tenant", "330110")  # a division code names 余杭区
    assert "yuhang" in out and "chain intact" in out
    out, _ = run_verify("--all")
    assert {line.split(":")[0] for line in out.splitlines()} >= {"public", "shangcheng", "yuhang", "hangzhou"}


def test_the_hash_is_sha256_over_sorted_json_with_utc_time(world):
    """An inspector recomputes a row's hash with a JSON library and SHA-256, nothing of ours."""
    with tenant_context(world.shangcheng):
        entry = record(action="test.canonical", purpose="核对", big=1e20, small=0.1, name="张三", nested={"b": 1, "a": [2]})
        stored = AuditEntry.objects.get(pk=entry.pk)
        fields = {"at": stored.at.astimezone(__import__("datetime").UTC).isoformat(timespec="microseconds"),
                  "actor_id": None, "actor_label": "system", "action": "test.canonical", "target_type": "",
                  "target_id": "", "purpose": "核对", "data": stored.data, "prev_hash": stored.prev_hash}
        text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert text.endswith('"target_type":""}') and '"at":"' in text and "+00:00" in text
        assert hashlib.sha256(text.encode()).hexdigest() == stored.row_hash
        assert verify.verify_rows().ok  # 1e20 came back from jsonb as an integer: hashed as stored


def test_verify_names_an_altered_row(world):
    with tenant_context(world.shangcheng):
        target = record(action="test.alter", purpose="原始目的")
        record(action="test.after")
        with trigger_disabled() as cursor:
            cursor.execute("UPDATE audit_auditentry SET purpose = '篡改' WHERE id = %s", [target.pk])
    err = failing_verify("--tenant", "shangcheng")
    assert f"chain broken at row {target.pk}: its content does not match its hash" in err


def test_verify_names_the_row_after_a_removed_one(world):
    with tenant_context(world.shangcheng):
        removed = record(action="test.remove")
        after = record(action="test.after")
        with trigger_disabled() as cursor:
            cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [removed.pk])
    err = failing_verify("--tenant", "shangcheng")
    assert f"chain broken at row {after.pk}: its previous hash does not match" in err


def test_verify_names_a_row_slipped_into_the_middle(world):
    with tenant_context(world.shangcheng):
        before = record(action="test.before")
        with pytest.raises(RuntimeError), transaction.atomic():  # leaves a gap in the ids
            record(action="test.rolled_back")
            raise RuntimeError
        after = record(action="test.after")
        assert after.pk > before.pk + 1
        row = forged_row(prev_hash=before.row_hash, purpose="事后补记")
        with connection.cursor() as cursor:  # INSERT is allowed: only its place in the chain tells
            cursor.execute("INSERT INTO audit_auditentry (id, at, actor_id, actor_label, action, target_type, "
                           "target_id, purpose, data, prev_hash, row_hash) VALUES "
                           "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                           [before.pk + 1, row["at"], None, row["actor_label"], row["action"], "", "",
                            row["purpose"], json.dumps(row["data"]), row["prev_hash"], row["row_hash"]])
    err = failing_verify("--tenant", "shangcheng")
    assert f"chain broken at row {after.pk}: its previous hash does not match" in err
    out, _ = run_verify("--tenant", "yuhang")  # another tenant's chain is its own
    assert "chain intact" in out


def test_verify_fails_on_a_row_written_around_record(world):
    with schema_context("public"):
        AuditEntry.objects.create(action="test.unchained")  # no hashes: not through record()
    err = failing_verify("--public")
    assert "public: chain broken at row" in err


def test_update_delete_and_truncate_stay_refused(world):
    for tenant in (world.shangcheng, world.province):  # a cloned tenant and public
        with tenant_context(tenant):
            entry = record(action="test.refused")
            for statement in ("UPDATE audit_auditentry SET purpose = 'x' WHERE id = %s",
                              "DELETE FROM audit_auditentry WHERE id = %s", "TRUNCATE audit_auditentry"):
                with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
                    with connection.cursor() as cursor:
                        cursor.execute(statement, [entry.pk] if "%s" in statement else None)
            assert AuditEntry.objects.filter(pk=entry.pk, purpose="").exists()


def test_the_migration_chains_rows_written_before_the_chain(world):
    with tenant_context(world.shangcheng):
        with trigger_disabled() as cursor:
            cursor.execute("UPDATE audit_auditentry SET prev_hash = '', row_hash = ''")
        assert not verify.verify_rows().ok
        rechain_everything()
        assert not AuditEntry.objects.filter(row_hash="").exists()
        result = verify.verify_rows()
        assert result.ok and result.checked == AuditEntry.objects.count()


@pytest.mark.slow
def test_concurrent_appends_make_one_unbroken_chain(committed):
    """Two connections append at once (a barrier lines them up); without the lock both
    would read the same tail and fork the chain."""
    tenant = committed.yuhang
    barrier = threading.Barrier(2)
    failures = []

    def append(name):
        try:
            with tenant_context(tenant):
                barrier.wait()
                for n in range(40):
                    with transaction.atomic():
                        record(action="test.concurrent", writer=name, n=n)
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    with tenant_context(tenant):
        before = AuditEntry.objects.count()
    threads = [threading.Thread(target=append, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    with tenant_context(tenant):
        assert AuditEntry.objects.count() == before + 80
        writers = list(AuditEntry.objects.filter(action="test.concurrent").order_by("id")
                       .values_list("data__writer", flat=True))
        assert len(set(writers[-80:])) == 2
        result = verify.verify_rows()
        assert result.ok, result.problem
        assert result.checked == before + 80
        hashes = AuditEntry.objects.values_list("prev_hash", flat=True)
        assert len(set(hashes)) == len(hashes)  # no two rows follow the same row


@pytest.mark.slow
def test_the_command_exits_non_zero_naming_the_broken_row(committed):
    """The real command in its own process, against committed rows: 0 on an intact chain,
    1 naming the row once one is altered (and 0 again once it is put back)."""
    import subprocess
    import sys

    from tests.conftest import child_env

    def run():
        return subprocess.run([sys.executable, "-m", "civicgrid.cli", "audit", "verify", "--tenant", "yuhang"],
                              env=child_env(), capture_output=True, text=True, timeout=120)

    with tenant_context(committed.yuhang):
        entry = record(action="test.cli", purpose="原样")
    intact = run()
    assert intact.returncode == 0 and "yuhang:" in intact.stdout and "chain intact" in intact.stdout, intact.stderr
    try:
        with tenant_context(committed.yuhang), transaction.atomic(), trigger_disabled() as cursor:
            cursor.execute("UPDATE audit_auditentry SET purpose = '篡改' WHERE id = %s", [entry.pk])
        broken = run()
        assert broken.returncode == 1
        assert f"yuhang: chain broken at row {entry.pk}: its content does not match its hash" in broken.stderr
    finally:
        with tenant_context(committed.yuhang), transaction.atomic(), trigger_disabled() as cursor:
            cursor.execute("UPDATE audit_auditentry SET purpose = '原样' WHERE id = %s", [entry.pk])
    assert run().returncode == 0

"""Audit chain benchmark: how long proving a chain of 100,000 rows takes, how fast
``record`` appends under the per-schema lock, and what archiving costs.

Run from the repository root with a PostgreSQL server and Redis available:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    REDIS_URL=redis://127.0.0.1:6379/5 \
    .venv/bin/python bench/audit.py

All the work happens in a scratch database, ``civicgrid_bench_audit`` (BENCH_DB
overrides it), dropped at the end. ROWS (100,000) and APPENDS (2,000) set the sizes.

Setup (not timed): migrate, province, city, county; then ROWS rows a year old, chained
in Python with the one canonical form (``audit.chain``) and loaded with COPY.

Timed:
* append  -- ``record`` in its own transaction, APPENDS times by one writer, then by
             two writers at once (the lock serialises them; the chain stays one);
* verify  -- ``verify_rows`` over the whole table (best of 3), and the page's bounded
             ``quick_status`` from cold;
* archive -- ``archive_before`` of the old rows, then ``--with-archives``' re-check.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from datetime import timedelta

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from scratch import machine_line, onboarded_county, run_in_scratch_database  # noqa: E402

ROWS = int(os.environ.get("ROWS", 100_000))
APPENDS = int(os.environ.get("APPENDS", 2_000))


def load_old_rows(count: int) -> None:
    """``count`` chained rows, a year old and older, after whatever the table holds."""
    import json

    from django.db import connection
    from django.utils import timezone

    from civicgrid.platform.audit import chain

    with connection.cursor() as cursor:
        previous = chain.lock_and_read_tail(cursor)
        cursor.execute("SELECT count(*) FROM audit_auditentry")
        if cursor.fetchone()[0]:
            raise RuntimeError("load the old rows into an empty trail: they must come first in the chain")
    start = timezone.now() - timedelta(days=400)
    with connection.cursor() as cursor, cursor.copy(
            "COPY audit_auditentry (at, actor_id, actor_label, action, target_type, target_id, purpose, data, "
            "prev_hash, row_hash) FROM STDIN") as copy:
        for n in range(count):
            row = {"at": start + timedelta(seconds=n * 60), "actor_id": 7, "actor_label": "shangcheng_operator",
                   "action": "case.dispatch", "target_type": "cases.case", "target_id": str(n),
                   "purpose": "", "data": {"department": "D-JUS", "status": "dispatched", "n": n},
                   "prev_hash": previous}
            row["row_hash"] = chain.row_hash(row)
            copy.write_row([row["at"], 7, row["actor_label"], row["action"], row["target_type"], row["target_id"],
                            "", json.dumps(row["data"]), row["prev_hash"], row["row_hash"]])
            previous = row["row_hash"]


def appends(count: int, writers: int) -> float:
    from django.db import connection, transaction

    from civicgrid.platform.audit.actions import record

    schema = connection.schema_name
    barrier = threading.Barrier(writers)

    def write():
        from django_tenants.utils import schema_context

        with schema_context(schema):
            barrier.wait()
            for n in range(count // writers):
                with transaction.atomic():
                    record(action="bench.append", n=n)
        connection.close()

    threads = [threading.Thread(target=write) for _ in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def run() -> None:
    from django.core.cache import cache
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from civicgrid.platform.audit import archives, verify
    from civicgrid.platform.audit.actions import archive_before
    from civicgrid.platform.audit.models import AuditEntry

    county = onboarded_county()
    with tenant_context(county):
        # Onboarding wrote a few rows: start this county's trail afresh for the old rows.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditentry DISABLE TRIGGER audit_entry_no_truncate")
            cursor.execute("TRUNCATE audit_auditentry RESTART IDENTITY")
            cursor.execute("ALTER TABLE audit_auditentry ENABLE TRIGGER audit_entry_no_truncate")
        started = time.perf_counter()
        load_old_rows(ROWS)
        print(f"setup   {ROWS:,} chained rows loaded with COPY in {time.perf_counter() - started:.1f}s", flush=True)

        one = appends(APPENDS, 1)
        print(f"append  one writer:  {APPENDS:,} rows in {one:.2f}s = {APPENDS / one:,.0f} rows/s", flush=True)
        two = appends(APPENDS, 2)
        print(f"append  two writers: {APPENDS:,} rows in {two:.2f}s = {APPENDS / two:,.0f} rows/s", flush=True)

        total = AuditEntry.objects.count()
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            result = verify.verify_rows()
            timings.append(time.perf_counter() - started)
            assert result.ok and result.checked == total, result
        best = min(timings)
        print(f"verify  {total:,} rows: best {best:.2f}s of {', '.join(f'{t:.2f}' for t in timings)} "
              f"= {total / best:,.0f} rows/s", flush=True)
        cache.delete("audit-chain-verified")
        started = time.perf_counter()
        status = verify.quick_status()
        print(f"page    quick status from cold: {verify.QUICK_ROWS:,} rows in {time.perf_counter() - started:.2f}s "
              f"(verified up to row {status.verified_up_to}, {status.remaining:,} left for later visits)", flush=True)

        started = time.perf_counter()
        done = archive_before(before=timezone.localdate() - timedelta(days=200), acting_user=None)
        took = time.perf_counter() - started
        print(f"archive {done.count:,} rows to {done.archive} in {took:.2f}s", flush=True)
        started = time.perf_counter()
        newest = verify.newest_archive()
        check = archives.recheck(newest["manifest"], expected_last_hash=newest["last_hash"])
        assert check.ok, check.problem
        print(f"recheck {check.rows:,} archived rows in {time.perf_counter() - started:.2f}s", flush=True)
        from django.core.files.storage import default_storage

        default_storage.delete(done.archive)
        default_storage.delete(done.manifest)
    print(machine_line(), flush=True)


if __name__ == "__main__":
    sys.exit(run_in_scratch_database("civicgrid_bench_audit", run))

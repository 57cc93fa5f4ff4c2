"""Registry import benchmark: a million synthetic persons from one CSV file.

Run from the repository root with a PostgreSQL server and Redis available:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    REDIS_URL=redis://127.0.0.1:6379/5 \
    .venv/bin/python bench/registry_import.py

DATABASE_URL only says which server to use. All the work happens in a scratch
database, ``civicgrid_bench_import`` (override with BENCH_DB), dropped and
recreated at the start and dropped at the end (BENCH_KEEP=1 keeps it).
BENCH_ROWS changes the row count (default 1,000,000); BENCH_XLSX=0 skips the
XLSX report; BENCH_COMPARE=0 skips the side-by-side run of the ordinary path.

Not timed: migrating, onboarding a county with the demo org tree, and writing
the CSV (``registry.synthetic``: name, ID number, phone, address, grid code).

Timed, each the way ``civicgrid registry import`` runs it (one process plus a
pool of two for checking and encrypting):

* first    -- every row new: each chunk checked, staged and inserted while the next
              are read; the secondary indexes rebuilt at the end
* again    -- the same file once more: every row unchanged, nothing written
* reports  -- the reconciliation report of the second import, CSV and XLSX
* ordinary -- the registry emptied, the first import once more the ordinary way
              (stage every row, then match and apply with one statement each),
              for the ratio against applying while reading

Target: at least 20,000 rows/s for the first import on a 2-core machine.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import machine_line, run_in_scratch_database, version_of  # noqa: E402

TARGET_ROWS_PER_SECOND = 20_000
HEADER = ["姓名", "身份证号", "手机号", "现住址", "网格编码"]
MAPPING = {"姓名": "name", "身份证号": "id_number", "手机号": "phone", "现住址": "actual_address",
           "网格编码": "grid"}


def main() -> int:
    rows = int(os.environ.get("BENCH_ROWS", "1000000"))

    def run_with_folder():
        with tempfile.TemporaryDirectory(prefix="civicgrid-bench-import-") as folder:
            run(rows, Path(folder))

    return run_in_scratch_database("civicgrid_bench_import", run_with_folder)



def write_csv(path: Path, rows: int, grids: list[str]) -> None:
    from civicgrid.platform.registry.synthetic import persons

    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i, person in enumerate(persons(rows)):
            writer.writerow([person.name, person.id_number, person.phone, person.address, grids[i % len(grids)]])


def timed_import(path: Path, label: str, rows: int):
    from civicgrid.platform.registry.imports import actions

    phases: list[tuple[str, float]] = []

    def progress(phase, done, total):
        if not phases or phases[-1][0] != phase:
            phases.append((phase, time.perf_counter()))

    started = time.perf_counter()
    batch = actions.open_batch(staff=None, department_code="D-PSB", file_name=path.name, path=str(path))
    actions.map_columns(staff=None, batch=batch, column_mapping=MAPPING)
    batch = actions.run_import(batch=batch, progress=progress)
    elapsed = time.perf_counter() - started
    marks = [("open", started), *phases]
    steps = " ".join(f"{name}={end - start:.1f}s" for (name, start), (_n, end) in zip(marks, marks[1:], strict=False))
    counts = " ".join(f"{k}={v}" for k, v in batch.counts().items())
    print(f"{label:<8}{rows / elapsed:>10,.0f} rows/s  {elapsed:.1f}s  status={batch.status}  {counts}", flush=True)
    print(f"        steps: {steps}", flush=True)
    assert batch.total_rows == rows and batch.bad_rows == 0, batch.counts()
    return batch, rows / elapsed


def empty_registry() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE registry_person, registry_household, registry_imports_importrow, "
                       "registry_imports_importmatch CASCADE")
        cursor.execute("CHECKPOINT")


def run(rows: int, folder: Path) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import tenant_context

    from civicgrid.platform.org.demo import build_demo_tree
    from civicgrid.platform.org.models import OrgUnit
    from civicgrid.platform.registry.imports import reports
    from civicgrid.platform.registry.models import Person
    from civicgrid.province.onboarding import ensure_province, onboard_tenant

    print(f"settings={os.environ['DJANGO_SETTINGS_MODULE']} database={connection.settings_dict['NAME']}", flush=True)
    call_command("migrate_all", verbosity=0, no_progress=True, stdout=io.StringIO())
    ensure_province(name="浙江省", division_code="330000", domain="localhost")
    onboard_tenant(name="杭州市", division_code="330100", level="city", domain="hangzhou.localhost",
                   admin_password="x" * 12, acting_user=None)
    tenant = onboard_tenant(name="上城区", division_code="330102", level="county", parent_code="330100",
                            domain="shangcheng.localhost", admin_password="x" * 12, acting_user=None).tenant
    path = folder / "persons.csv"
    with tenant_context(tenant):
        build_demo_tree(center=(120.17, 30.24))
        grids = list(OrgUnit.objects.filter(level=OrgUnit.Level.GRID).values_list("code", flat=True))
        t0 = time.perf_counter()
        write_csv(path, rows, grids)
        print(f"setup   wrote {rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in "
              f"{time.perf_counter() - t0:.1f}s (not timed)", flush=True)

        first, first_rate = timed_import(path, "first", rows)
        assert first.new_rows == rows and Person.objects.count() == rows
        again, again_rate = timed_import(path, "again", rows)
        assert again.unchanged_rows == rows and again.new_rows == again.updated_rows == 0

        t0 = time.perf_counter()
        reports.write_csv(again, folder / "report.csv")
        csv_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        if os.environ.get("BENCH_XLSX", "1") == "1":
            reports.write_xlsx(again, folder / "report.xlsx")
            xlsx = f"xlsx={time.perf_counter() - t0:.1f}s ({rows / (time.perf_counter() - t0):,.0f} rows/s)"
        else:
            xlsx = "xlsx=skipped"
        print(f"reports csv={csv_seconds:.1f}s ({rows / csv_seconds:,.0f} rows/s) {xlsx}", flush=True)

        if os.environ.get("BENCH_COMPARE", "1") == "1":
            from civicgrid.platform.registry.imports import actions

            empty_registry()
            actions.APPLY_WHILE_READING = False
            _plain, plain_rate = timed_import(path, "ordinary", rows)
            actions.APPLY_WHILE_READING = True
            print(f"ratio   first import, applied while reading / ordinary path = {first_rate / plain_rate:.2f}x",
                  flush=True)
        verdict = "meets" if first_rate >= TARGET_ROWS_PER_SECOND else "MISSES"
        print(f"target  first import {first_rate:,.0f} rows/s {verdict} {TARGET_ROWS_PER_SECOND:,} rows/s; "
              f"re-import {again_rate:,.0f} rows/s", flush=True)

        print(machine_line(f"psycopg={version_of('psycopg')}", f"cryptography={version_of('cryptography')}"), flush=True)


if __name__ == "__main__":
    sys.exit(main())

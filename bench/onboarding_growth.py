"""How onboarding one more county grows with the number of tenants already there.

Run from the repository root with a PostgreSQL server and Redis available:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    REDIS_URL=redis://127.0.0.1:6379/5 \
    .venv/bin/python bench/onboarding_growth.py

In a scratch database (``civicgrid_bench_onboarding_growth``, dropped at the end) it onboards
100 counties under ten cities with ``onboard_tenant`` and, at 1, 10, 30, 60 and 100 counties,
prints how long that county's whole onboarding took, then times django-tenants'
``clone_schema()`` of the template alone and the constraint renaming after it, in a
transaction rolled back. No data goes into the tenants: only the catalog grows.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.province import COUNTIES_PER_CITY, county_code  # noqa: E402
from bench.scratch import machine_line, run_in_scratch_database, version_of  # noqa: E402

COUNTIES = 100
PROBES = {1, 10, 30, 60, 100}


def clone_alone() -> tuple[float, float]:
    from django.db import connection, transaction

    from civicgrid.tenants import schemas

    with transaction.atomic():
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT clone_schema(%s, %s, 'NODATA')", [schemas.TEMPLATE_SCHEMA, "probe_clone"])
        cloned = time.perf_counter()
        schemas.align_constraint_names("probe_clone")
        aligned = time.perf_counter()
        transaction.set_rollback(True)
    return cloned - started, aligned - cloned


def run() -> None:
    from django.core.management import call_command
    from django.db import connection

    from civicgrid.province.onboarding import ensure_province, onboard_tenant

    print(machine_line(f"django-tenants={version_of('django-tenants')}"), flush=True)
    call_command("migrate_all", verbosity=0, no_progress=True)
    ensure_province(name="浙江省", division_code="330000", domain="localhost")
    for n in range(COUNTIES):
        city_code, code = county_code(n)
        if n % COUNTIES_PER_CITY == 0:
            onboard_tenant(name=f"基准市{city_code}", division_code=city_code, level="city",
                           domain=f"c{city_code}.localhost", admin_password="x" * 12, acting_user=None)
        started = time.perf_counter()
        onboard_tenant(name=f"基准区{code}", division_code=code, level="county", parent_code=city_code,
                       domain=f"d{code}.localhost", admin_password="x" * 12, acting_user=None)
        onboarded = time.perf_counter() - started
        if n + 1 in PROBES:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_class")
                relations = cursor.fetchone()[0]
            clone, align = clone_alone()
            print(f"county {n + 1:>3}: onboarding {onboarded:.2f}s; clone_schema() alone {clone:.2f}s, "
                  f"renaming constraints {align:.2f}s; the catalog holds {relations:,} relations", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("CIVICGRID_LOG_LEVEL", "WARNING")
    sys.exit(run_in_scratch_database("civicgrid_bench_onboarding_growth", run))

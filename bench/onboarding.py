"""Onboarding benchmark: cloning the template schema vs. running every migration.

Run from the repository root with a PostgreSQL server and Redis available:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    REDIS_URL=redis://127.0.0.1:6379/5 \
    .venv/bin/python bench/onboarding.py

DATABASE_URL only says which server to use (and which database to connect to
for CREATE/DROP DATABASE). All the work happens in a scratch database,
``civicgrid_bench`` (override with BENCH_DB), which is dropped and recreated at
the start and dropped at the end. No other database is touched.

What it measures:

* clone   -- ``onboard_tenant(level="county", ...)``: the whole onboarding
             transaction (tenant row, clone of the template, domain, county
             admin, audit records), with a precomputed password hash.
* migrate -- ``CREATE SCHEMA`` + ``migrate_schemas --tenant --schema=NAME``:
             what django-tenants does for a new tenant without a template.
             (Schema only: no tenant row, domain or admin, so the comparison
             favours the migrate path.)

The two are interleaved (clone, migrate, clone, migrate, ...). Before each
timed call the database connection is opened, because migrate_schemas closes
it when it finishes and the reconnect would otherwise be charged to the clone
that follows.

Then it times ``migrate_all`` (what ``civicgrid migrate`` runs) with nothing
pending, over the province, the city and the 20 cloned counties.
"""

from __future__ import annotations

import io
import itertools
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scratch import machine_line, run_in_scratch_database, version_of  # noqa: E402

N = 20  # onboardings per method
NOOP_RUNS = 5  # runs of migrate_all with nothing pending
CITY_CODE = "330100"
FIRST_COUNTY = 330111  # 330111..330130: valid county codes under 3301
MIGRATE_PREFIX = "benchmig"


def nearest_rank(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(pct / 100 * len(ordered)), 1) - 1]


def summary(label: str, values: list[float]) -> tuple[float, float]:
    med, p95 = statistics.median(values), nearest_rank(values, 95)
    print(
        f"{label:<8}n={len(values)} median={med:.3f}s p95={p95:.3f}s "
        f"min={min(values):.3f}s max={max(values):.3f}s",
        flush=True,
    )
    return med, p95


def main() -> int:
    return run_in_scratch_database("civicgrid_bench", run)



def run() -> None:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection

    from civicgrid.province.onboarding import ensure_province, onboard_tenant
    from civicgrid.tenants.models import Tenant
    from civicgrid.tenants.schemas import TEMPLATE_SCHEMA, drop_schema, pending_migrations

    print(f"settings={os.environ['DJANGO_SETTINGS_MODULE']} database={connection.settings_dict['NAME']}", flush=True)

    started = time.perf_counter()
    call_command("migrate_all", verbosity=0, no_progress=True, stdout=io.StringIO())
    print(f"setup   migrate_all (public + {TEMPLATE_SCHEMA}) took {time.perf_counter() - started:.1f}s", flush=True)

    ensure_province(name="浙江省", division_code="330000", domain="localhost")
    onboard_tenant(
        name="杭州市", division_code=CITY_CODE, level="city", domain="hangzhou.localhost",
        admin_password="x" * 12, acting_user=None,
    )
    password_hash = make_password("x" * 12)  # once: PBKDF2 is not what we measure

    def template_tables() -> int:
        return table_count(TEMPLATE_SCHEMA)

    def table_count(schema: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_type = 'BASE TABLE'",
                [schema],
            )
            return cursor.fetchone()[0]

    clone_times: list[float] = []
    step_times: dict[str, list[float]] = {}  # clone path, per onboarding step (from its progress reports)
    migrate_times: list[float] = []
    migrate_schemas: list[str] = []
    try:
        for i in range(1, N + 1):
            # clone path: the real onboarding
            connection.set_schema_to_public()
            connection.ensure_connection()
            marks: list[tuple[str, float]] = []
            t0 = time.perf_counter()
            result = onboard_tenant(
                name=f"基准县{i:02d}", division_code=str(FIRST_COUNTY + i - 1), level="county",
                parent_code=CITY_CODE, domain=f"benchclone{i:02d}.localhost",
                admin_password_hash=password_hash, acting_user=None,
                progress=lambda done, total, step, marks=marks: marks.append((str(step), time.perf_counter())),
            )
            clone_times.append(time.perf_counter() - t0)
            for (step, start), (_, end) in itertools.pairwise(marks):
                step_times.setdefault(step, []).append(end - start)
            assert result.created, result

            # migrate path: a fresh schema and the whole migration chain
            schema = f"{MIGRATE_PREFIX}{i:02d}"
            connection.set_schema_to_public()
            connection.ensure_connection()
            t0 = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA "{schema}"')
            migrate_schemas.append(schema)
            call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=0)
            migrate_times.append(time.perf_counter() - t0)
            connection.set_schema_to_public()
            print(f"  {i:2d}/{N} clone={clone_times[-1]:.3f}s migrate={migrate_times[-1]:.3f}s", flush=True)

        # sanity: both paths produced the template's tables, with nothing left to migrate
        connection.set_schema_to_public()
        expected = template_tables()
        ok = True
        for schema in ("benchclone01", f"{MIGRATE_PREFIX}01"):
            got, pending = table_count(schema), pending_migrations(schema)
            if got != expected or pending:
                ok = False
                print(f"WARNING {schema}: {got} tables (template {expected}), {len(pending)} pending", flush=True)
        if ok:
            print(f"check   {TEMPLATE_SCHEMA}, benchclone01 and {MIGRATE_PREFIX}01: {expected} tables each, none pending",
                  flush=True)
    finally:
        connection.set_schema_to_public()
        for schema in migrate_schemas:
            drop_schema(schema)

    print()
    clone_med, clone_p95 = summary("clone", clone_times)
    mig_med, mig_p95 = summary("migrate", migrate_times)
    print(f"ratio   migrate/clone median={mig_med / clone_med:.1f}x p95={mig_p95 / clone_p95:.1f}x", flush=True)
    print("(p95 is nearest-rank: the 19th of 20 sorted values)")
    print("clone steps (median / max; the last one includes the commit):")
    for step, values in step_times.items():
        print(f"  {step:<32} {statistics.median(values):.3f}s / {max(values):.3f}s")

    # civicgrid migrate with nothing pending
    connection.set_schema_to_public()
    tenants = Tenant.objects.exclude(schema_name="public").count()
    noop_times = []
    out = io.StringIO()
    for _ in range(NOOP_RUNS):
        out = io.StringIO()
        connection.ensure_connection()
        t0 = time.perf_counter()
        call_command("migrate_all", verbosity=0, no_progress=True, stdout=out)
        noop_times.append(time.perf_counter() - t0)
    print()
    print(
        f"noop    migrate_all n={NOOP_RUNS} median={statistics.median(noop_times):.3f}s "
        f"max={max(noop_times):.3f}s tenants={tenants} (plus public and {TEMPLATE_SCHEMA})",
        flush=True,
    )
    print(f"        last run said: {out.getvalue().strip()}")

    print()
    print(machine_line(f"django-tenants={version_of('django-tenants')}"), flush=True)


if __name__ == "__main__":
    sys.exit(main())

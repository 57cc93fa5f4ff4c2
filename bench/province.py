"""A simulated province on one machine: how the work over every tenant grows with the
number of tenants.

Run from the repository root with a PostgreSQL server and Redis available:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    REDIS_URL=redis://127.0.0.1:6379/5 \
    .venv/bin/python bench/province.py

It works in a scratch database (``civicgrid_bench_province``, dropped at the end) and grows
the province in steps (``BENCH_STEPS``, default 10,30,100 counties). Every county is
onboarded by the real action (a clone of the template) and filled through the real paths:
its org tree and 1,000 grid boundaries imported from CSV and GeoJSON, 10,000 persons
imported from a CSV by the registry import, and 1,000 open cases COPY-loaded with
deadlines spread over green, yellow and red (as ``bench/cases_sweep.py`` does). At 100
counties: 10^5 grids, 10^6 persons, 10^5 cases. The counties hang under ten cities
(tenants too, with no grids of their own), so 100 counties are 110 tenants.

At each step it measures, over every tenant:

* noop      -- ``civicgrid migrate`` (``migrate_all``) with nothing pending;
* migration -- ``civicgrid migrate`` with one new migration in every tenant schema: a
               column and an index on ``registry_person`` (the biggest table), from a
               migration app of the benchmark's own, written to a temporary folder;
* sweep     -- the deadline sweep and the province's aggregates (yesterday's and today's)
               of every county, one after the other as one worker process runs them:
               first (the step's new counties have never been swept) and steady (at once
               again, as beat's next run finds it);

then fits a line over the steps (seconds = a + b × tenants) and the growth exponent
between the first and last step (1.0 is linear).

Goals: no-op migrate over 100 tenants ≤ 10 s; one new migration over 100 ≤ 2 minutes;
sweep and aggregates over 100 ≤ 60 s; each grows linearly or better.
"""

from __future__ import annotations

import io
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench import cases_sweep, registry_geo  # noqa: E402
from bench.registry_import import MAPPING, write_csv  # noqa: E402
from bench.scratch import machine_line, run_in_scratch_database, version_of  # noqa: E402

STEPS = [int(n) for n in os.environ.get("BENCH_STEPS", "10,30,100").split(",")]
COUNTIES_PER_CITY = 10
GRID_COLUMNS, GRID_ROWS, GRID_BLOCK = 40, 25, (5, 5)  # 1,000 grids in 40 communities of 25
PERSONS = int(os.environ.get("BENCH_PERSONS", 10_000))
CASES = int(os.environ.get("BENCH_CASES", 1_000))
NOOP_RUNS = 3
GOALS = {"noop": 10.0, "migration": 120.0, "sweep": 60.0}
UPGRADE_APP = "province_bench_upgrade"


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="bench-province-"))
    write_upgrade_app(folder)
    sys.path.insert(0, str(folder))
    # The sweep's escalations ask for relays: keep them off any real queue.
    os.environ.setdefault("CELERY_QUEUE", "civicgrid-bench-province")
    os.environ.setdefault("CIVICGRID_LOG_LEVEL", "WARNING")  # not a line per tenant per sweep
    os.environ["DJANGO_SETTINGS_MODULE"] = "province_bench_settings"
    try:
        return run_in_scratch_database("civicgrid_bench_province", lambda: run(folder))
    finally:
        forget_relay_requests()
        shutil.rmtree(folder, ignore_errors=True)


def forget_relay_requests() -> None:
    """The relays the sweeps' escalations asked for: no worker listens to the benchmark's queue."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.delete(os.environ["CELERY_QUEUE"])
    client.close()


# --- the benchmark's own migrations ----------------------------------------------------------


def write_upgrade_app(folder: Path) -> None:
    """Settings with one more tenant app, whose migrations the benchmark adds step by step."""
    app = folder / UPGRADE_APP
    (app / "migrations").mkdir(parents=True)
    (app / "__init__.py").write_text("")
    (app / "migrations" / "__init__.py").write_text("")
    (app / "migrations" / "0001_initial.py").write_text(textwrap.dedent("""
        from django.db import migrations

        class Migration(migrations.Migration):
            dependencies = [("registry", "__latest__")]
            operations = []
    """))
    (folder / "province_bench_settings.py").write_text(textwrap.dedent(f"""
        from civicgrid.config.settings.dev import *  # noqa: F403

        TENANT_APPS = [*TENANT_APPS, "{UPGRADE_APP}"]  # noqa: F405
        INSTALLED_APPS = [*INSTALLED_APPS, "{UPGRADE_APP}"]  # noqa: F405
    """))


def add_migration(folder: Path, number: int) -> str:
    """Migration ``number`` (2, 3, ...): a nullable column and its index on registry_person."""
    name = f"{number:04d}_person_checked_{number}"
    previous = sorted(p.stem for p in (folder / UPGRADE_APP / "migrations").glob("0*.py"))[-1]
    column, index = f"bench_checked_{number}", f"bench_person_checked_{number}"
    (folder / UPGRADE_APP / "migrations" / f"{name}.py").write_text(textwrap.dedent(f"""
        from django.db import migrations

        class Migration(migrations.Migration):
            dependencies = [("{UPGRADE_APP}", "{previous}")]
            operations = [migrations.RunSQL(
                "ALTER TABLE registry_person ADD COLUMN {column} timestamptz NULL; "
                "CREATE INDEX {index} ON registry_person ({column})",
                "DROP INDEX {index}; ALTER TABLE registry_person DROP COLUMN {column}")]
    """))
    return name


# --- filling a county --------------------------------------------------------------------------


def county_code(n: int) -> tuple[str, str]:
    """(city code, county code) of county ``n`` (0-based): ten per city, 3301xx to 3310xx."""
    city = 3301 + n // COUNTIES_PER_CITY
    return f"{city}00", f"{city}{n % COUNTIES_PER_CITY + 1:02d}"


def grid_files() -> tuple[bytes, bytes]:
    registry_geo.COLUMNS, registry_geo.ROWS, registry_geo.BLOCK = GRID_COLUMNS, GRID_ROWS, GRID_BLOCK
    tree, grids = registry_geo.county_files(random.Random(registry_geo.SEED))
    return tree.encode(), grids.encode()


class Province:
    def __init__(self, folder: Path):
        self.folder = folder
        self.counties: list = []
        self.cities: dict[str, object] = {}
        self.tree, self.grids = grid_files()
        self.persons_csv = folder / "persons.csv"
        self.setup_seconds: dict[str, float] = {"onboard": 0.0, "grids": 0.0, "persons": 0.0, "cases": 0.0}

    def tenants(self) -> int:
        return len(self.counties) + len(self.cities)

    def grow_to(self, counties: int) -> None:
        from django_tenants.utils import tenant_context

        from civicgrid.platform.org.actions import create_department
        from civicgrid.platform.org.demo import DEPARTMENTS
        from civicgrid.platform.org.imports import import_grids, import_tree
        from civicgrid.platform.org.models import OrgUnit
        from civicgrid.province.onboarding import onboard_tenant

        started = time.perf_counter()
        first = len(self.counties)
        for n in range(first, counties):
            city_code, code = county_code(n)
            t0 = time.perf_counter()
            if city_code not in self.cities:
                self.cities[city_code] = onboard_tenant(
                    name=f"基准市{city_code[:4]}", division_code=city_code, level="city",
                    domain=f"c{city_code}.localhost", admin_password="x" * 12, acting_user=None).tenant
            county = onboard_tenant(name=f"基准区{code}", division_code=code, level="county", parent_code=city_code,
                                    domain=f"d{code}.localhost", admin_password="x" * 12, acting_user=None).tenant
            t1 = time.perf_counter()
            with tenant_context(county):
                tree = import_tree(data=self.tree, acting_user=None)
                grids = import_grids(data=self.grids, acting_user=None)
                assert tree.ok and grids.ok, (tree.problems[:3], grids.problems[:3])
                for dept_code, dept_name in DEPARTMENTS:  # the county's departments, as its admin sets them up
                    create_department(code=dept_code, name=dept_name, acting_user=None)
                t2 = time.perf_counter()
                if not self.persons_csv.exists():
                    codes = list(OrgUnit.objects.filter(level=OrgUnit.Level.GRID).values_list("code", flat=True))
                    write_csv(self.persons_csv, PERSONS, codes)
                import_persons(self.persons_csv)
                t3 = time.perf_counter()
                load_cases()
                t4 = time.perf_counter()
            self.counties.append(county)
            for key, seconds in zip(self.setup_seconds, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                self.setup_seconds[key] += seconds
            done = n + 1 - first
            if done % 5 == 0 or n + 1 == counties:
                elapsed = time.perf_counter() - started
                print(f"\r  onboarded and filled {n + 1}/{counties} counties ({elapsed:.0f}s, "
                      f"{elapsed / done:.1f}s each)", end="", flush=True)
        print(flush=True)


def import_persons(path: Path) -> None:
    from civicgrid.platform.registry.imports import actions

    batch = actions.open_batch(staff=None, department_code="D-PSB", file_name=path.name, path=str(path))
    actions.map_columns(staff=None, batch=batch, column_mapping=MAPPING)
    batch = actions.run_import(batch=batch)
    assert batch.new_rows == PERSONS and batch.bad_rows == 0, batch.counts()


def load_cases() -> None:
    from django.utils import timezone

    cases_sweep.CASES = CASES
    cases_sweep.load_cases(timezone.now())


# --- the measurements --------------------------------------------------------------------------


def migrate_all() -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate_all", verbosity=0, no_progress=True, stdout=io.StringIO())
    return time.perf_counter() - started


def sweep_and_aggregates(counties) -> tuple[float, dict]:
    from django_tenants.utils import tenant_context

    from civicgrid.platform.cases.sweep import sweep
    from civicgrid.province.tasks import publish_tenant_aggregates

    totals: dict[str, int] = {}
    started = time.perf_counter()
    for county in counties:
        with tenant_context(county):
            for key, value in sweep().items():
                if isinstance(value, int) and not isinstance(value, bool):
                    totals[key] = totals.get(key, 0) + value
            publish_tenant_aggregates.run()
    return time.perf_counter() - started, totals


def database_size() -> tuple[int, int]:
    """(bytes of the whole database, bytes of one county's schema: the first's)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        whole = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                       "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'd330101' "
                       "AND c.relkind IN ('r', 'm')")
        county = cursor.fetchone()[0]
    return whole, county


def counts(counties) -> tuple[int, int, int]:
    from django.db import connection

    grids = persons = cases = 0
    with connection.cursor() as cursor:
        for county in counties:
            schema = county.schema_name
            cursor.execute(f'SELECT (SELECT count(*) FROM "{schema}".org_orgunit WHERE level = \'grid\'), '
                           f'(SELECT count(*) FROM "{schema}".registry_person), '
                           f'(SELECT count(*) FROM "{schema}".cases_case)')
            g, p, c = cursor.fetchone()
            grids, persons, cases = grids + g, persons + p, cases + c
    return grids, persons, cases


def fit(points: list[tuple[int, float]]) -> tuple[float, float, float]:
    """Least squares seconds = a + b × tenants: (a, b, exponent between first and last)."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0
    (x0, y0), (x1, y1) = points[0], points[-1]
    exponent = math.log(y1 / y0) / math.log(x1 / x0) if x1 != x0 and y0 > 0 and y1 > 0 else float("nan")
    return mean_y - slope * mean_x, slope, exponent


def run(folder: Path) -> None:
    from django.db import connection

    from civicgrid.province.onboarding import ensure_province

    print(machine_line(f"django-tenants={version_of('django-tenants')}"), flush=True)
    print(f"settings={os.environ['DJANGO_SETTINGS_MODULE']} database={connection.settings_dict['NAME']} "
          f"steps={STEPS} per county: {GRID_COLUMNS * GRID_ROWS} grids, {PERSONS:,} persons, {CASES:,} cases",
          flush=True)
    started = time.perf_counter()
    migrate_all()
    ensure_province(name="浙江省", division_code="330000", domain="localhost")
    print(f"setup   migrate + province took {time.perf_counter() - started:.1f}s", flush=True)

    province = Province(folder)
    results: dict[str, list[tuple[int, float]]] = {"noop": [], "migration": [], "sweep": [], "first sweep": []}
    for step, counties in enumerate(STEPS):
        print(f"--- {counties} counties", flush=True)
        province.grow_to(counties)
        tenants = province.tenants()
        grids, persons, cases = counts(province.counties)
        setup = " ".join(f"{k}={v:.0f}s" for k, v in province.setup_seconds.items())
        print(f"setup   {tenants} tenants ({counties} counties, {len(province.cities)} cities): {grids:,} grids, "
              f"{persons:,} persons, {cases:,} cases; cumulative {setup}", flush=True)
        whole, county = database_size()
        print(f"size    database {whole / 2**20:,.0f} MiB; one county's schema {county / 2**20:.1f} MiB "
              f"(tables, indexes, TOAST)", flush=True)

        noop = [migrate_all() for _ in range(NOOP_RUNS)]
        results["noop"].append((tenants, statistics.median(noop)))
        print(f"noop    migrate over {tenants} tenants: median={statistics.median(noop):.2f}s "
              f"runs={' '.join(f'{s:.2f}' for s in noop)}", flush=True)

        name = add_migration(folder, step + 2)
        seconds = migrate_all()
        results["migration"].append((tenants, seconds))
        print(f"migrate one new migration ({name}) over {tenants} tenants: {seconds:.1f}s "
              f"({seconds / tenants * 1000:.0f} ms per schema)", flush=True)

        first, done = sweep_and_aggregates(province.counties)
        steady, again = sweep_and_aggregates(province.counties)
        results["first sweep"].append((tenants, first))
        results["sweep"].append((tenants, steady))
        print(f"sweep   sweep + aggregates over {counties} counties: first={first:.1f}s steady={steady:.1f}s "
              f"({steady / counties * 1000:.0f} ms per county); first did "
              f"{', '.join(f'{k}={v}' for k, v in sorted(done.items()) if v)}", flush=True)

    print("--- growth with the number of tenants (seconds = a + b × tenants; exponent 1.0 is linear)", flush=True)
    for name, points in results.items():
        a, b, exponent = fit(points)
        shown = " ".join(f"{n}→{s:.2f}s" for n, s in points)
        print(f"fit     {name:<11} {shown}  a={a:.2f}s b={b * 1000:.1f}ms/tenant exponent={exponent:.2f}", flush=True)
    last = {name: points[-1] for name, points in results.items()}
    for name, goal in GOALS.items():
        tenants, seconds = last[name]
        exponent = fit(results[name])[2]
        verdict = "met" if seconds <= goal else "MISSED"
        shape = "linear or better" if not exponent > 1.1 else "WORSE than linear"
        print(f"goal    {name} over {tenants} tenants = {seconds:.1f}s  goal ≤ {goal:.0f}s: {verdict}; growth {shape}",
              flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""Province supervision benchmark: the province's page over 100 tenants' published aggregates.

Run from the repository root with a PostgreSQL server and Redis available:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    REDIS_URL=redis://127.0.0.1:6379/13 \
    .venv/bin/python bench/province_page.py

All the work happens in a scratch database, ``civicgrid_bench_province`` (BENCH_DB), dropped
at the end (BENCH_KEEP=1 keeps it, BENCH_REUSE=1 runs again on a kept one without the
setup). BENCH_REQUESTS changes the timed requests per kind (default 200); BENCH_SQL=1 prints
the SQL of one request of each kind.

Not timed: migrating (public and the template schema), the province, and 100 tenants as
bare ``Tenant`` rows in ``public`` (no schemas: the page reads only what tenants published):
Zhejiang's 11 cities and its 89 counties, with the division codes of the boundary file the
map draws. For each tenant, BENCH_DAYS days (default 90) of ``DailyAggregate`` rows, one per
leaf category (BENCH_CATEGORIES, default 10) and township (BENCH_TOWNSHIPS, default 6), with
figures from a fixed pseudo-random sequence, loaded with COPY; each tenant-day's
``DailyTotal`` summed from them in SQL, as ``publish_daily_aggregates`` writes it; ANALYZE.
Then a provincial admin with a confirmed authenticator, signed in and past the second factor,
and one untimed request of every kind.

Timed: server time of a request -- the whole Django stack (tenant from the host, session,
user, second factor, the view, the template) through ``django.test.Client`` in this process,
without a network or an HTTP server in front. Each kind BENCH_REQUESTS times, the kinds
taking turns:

* page 30 days   -- ``/province/supervision/``: table, ranking, trend, map data (the default);
* page 90 days   -- ``?days=90``;
* chosen tenant  -- ``?days=90&measure=overdue_open&tenant=330110``: plus the tenant's trend
                    and its breakdown by kind and by township from the detail rows;
* xlsx export    -- ``?days=90&format=xlsx``.

It also counts the SQL queries of one request of each kind. p95 is nearest-rank.

Goal: the page with 100 tenants' aggregates p95 ≤ 200 ms and ≤ 30 queries.
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import machine_line, reusing, run_in_scratch_database, version_of  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REQUESTS", 200))
DAYS = int(os.environ.get("BENCH_DAYS", 90))
CATEGORIES = int(os.environ.get("BENCH_CATEGORIES", 10))
TOWNSHIPS = int(os.environ.get("BENCH_TOWNSHIPS", 6))
GOAL_P95_MS, GOAL_QUERIES = 200.0, 30
PAGE = "/province/supervision/"
BOUNDARIES = Path(__file__).resolve().parents[1] / "civicgrid/province/static/province/zhejiang-counties.geojson"
CITY_NAMES = {"330100": "杭州市", "330200": "宁波市", "330300": "温州市", "330400": "嘉兴市", "330500": "湖州市",
              "330600": "绍兴市", "330700": "金华市", "330800": "衢州市", "330900": "舟山市", "331000": "台州市",
              "331100": "丽水市"}
LEAVES = [("DSP-NEIGHBOUR", "DSP"), ("DSP-CONSUMER", "DSP"), ("URB-ROAD", "URB"), ("URB-STREETLIGHT", "URB"),
          ("URB-GARBAGE", "URB"), ("ENV-NOISE-NEIGHBOUR", "ENV"), ("ENV-COOKING-FUMES", "ENV"),
          ("HAZ-MANHOLE", "HAZ"), ("PUB-RENTAL-HOUSING", "PUB"), ("PUB-SCHOOL", "PUB"), ("HAZ-FOOD", "HAZ"),
          ("URB-PARKING", "URB")]


def tenants_to_make() -> list[tuple[str, str, str, str | None]]:
    """(name, code, level, parent code): the 11 cities, then the 89 counties of the map."""
    counties = json.loads(BOUNDARIES.read_text(encoding="utf-8"))["features"]
    made = [(name, code, "city", None) for code, name in CITY_NAMES.items()]
    made += [(f["properties"]["name"], f["properties"]["code"], "county", f["properties"]["city"]) for f in counties]
    return made


def set_up() -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from civicgrid.platform.accounts.actions import create_province_user
    from civicgrid.platform.accounts.models import ProvinceRole
    from civicgrid.province.onboarding import ensure_province
    from civicgrid.tenants.models import Tenant

    started = time.perf_counter()
    call_command("migrate_all", verbosity=0, no_progress=True)
    ensure_province(name="浙江省", division_code="330000", domain="localhost")
    create_province_user(username="bench_admin", password="x" * 12, province_role=ProvinceRole.PROVINCIAL_ADMIN,
                         acting_user=None)
    cities = {}
    for name, code, level, parent in tenants_to_make():
        tenant = Tenant.objects.create(schema_name=f"bench_{code}", name=name, division_code=code, level=level,
                                       parent=cities.get(parent), status=Tenant.Status.ACTIVE)
        if level == "city":
            cities[code] = tenant
    print(f"setup   migrate + province + {Tenant.objects.exclude(schema_name='public').count()} bare tenants "
          f"took {time.perf_counter() - started:.1f}s", flush=True)

    started = time.perf_counter()
    rng = random.Random(12)
    today = timezone.localdate()
    leaves = LEAVES[:CATEGORIES]
    columns = ("tenant_id", "day", "category_code", "category_name", "category_name_en", "kind_code", "kind_name",
               "kind_name_en", "org_unit_code", "org_unit_name", "reported", "accepted", "accepted_on_time",
               "handled", "handled_on_time", "closed", "rated", "rating_sum", "satisfied", "overdue_open")
    rows = 0
    # Read before COPY starts: the connection serves nothing else while it copies.
    tenant_ids = list(Tenant.objects.exclude(schema_name="public").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY province_dailyaggregate ({', '.join(columns)}) FROM STDIN") as copy:
            for tenant_id in tenant_ids:
                skill = rng.uniform(0.6, 0.97)
                for back in range(DAYS):
                    day = today - timedelta(days=back)
                    for code, kind in leaves:
                        for t in range(1, TOWNSHIPS + 1):
                            reported = rng.randint(0, 6)
                            accepted = max(reported - rng.randint(0, 1), 0)
                            handled = rng.randint(0, 6)
                            rated = rng.randint(0, handled)
                            rating_sum = sum(rng.randint(2, 5) for _ in range(rated))
                            copy.write_row((tenant_id, day, code, code, code, kind, kind, kind, f"T{t:02d}",
                                            f"第{t}街道", reported, accepted, int(accepted * skill), handled,
                                            int(handled * skill), rng.randint(0, handled), rated, rating_sum,
                                            rng.randint(0, rated), rng.randint(0, 2)))
                            rows += 1
        cursor.execute(
            "INSERT INTO province_dailytotal (tenant_id, day, published_at, reported, accepted, accepted_on_time, "
            "handled, handled_on_time, closed, rated, rating_sum, satisfied, overdue_open) "
            "SELECT tenant_id, day, now(), sum(reported), sum(accepted), sum(accepted_on_time), sum(handled), "
            "sum(handled_on_time), sum(closed), sum(rated), sum(rating_sum), sum(satisfied), sum(overdue_open) "
            "FROM province_dailyaggregate GROUP BY tenant_id, day")
        totals = cursor.rowcount
        cursor.execute("ANALYZE province_dailyaggregate")
        cursor.execute("ANALYZE province_dailytotal")
    print(f"setup   {rows:,} DailyAggregate rows ({DAYS} days × {len(leaves)} categories × {TOWNSHIPS} townships "
          f"× 100 tenants) and {totals:,} DailyTotal rows in {time.perf_counter() - started:.1f}s", flush=True)


def signed_in_admin():
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from civicgrid.platform.accounts.models import User

    user = User.objects.get(username="bench_admin")
    device, _created = TOTPDevice.objects.get_or_create(user=user, name="authenticator", defaults={"confirmed": True})
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def nearest_rank(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(pct / 100 * len(ordered)), 1) - 1]


def run() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    print(f"settings={os.environ['DJANGO_SETTINGS_MODULE']} database={connection.settings_dict['NAME']} "
          f"timing=in-process django.test.Client (server time, no HTTP server or network)", flush=True)
    if not reusing():
        set_up()
    client = signed_in_admin()
    kinds = {
        "page 30 days": {},
        "page 90 days": {"days": "90"},
        "chosen tenant (90 days, by overdue)": {"days": "90", "measure": "overdue_open", "tenant": "330110"},
        "xlsx export (90 days)": {"days": "90", "format": "xlsx"},
    }

    def get(params):
        response = client.get(PAGE, params)
        if params.get("format"):
            b"".join(response.streaming_content)
        return response

    for label, params in kinds.items():  # warm-up, and a look at the answer
        response = get(params)
        if response.status_code != 200:
            raise SystemExit(f"{label}: {response.status_code}\n{response.content[:500]}")
        if not params.get("format"):
            body = response.content.decode()
            listed = body.count('<tr id="tenant-')
            if listed != 100:
                raise SystemExit(f"{label}: {listed} tenants listed, not 100")

    queries = {}
    for label, params in kinds.items():
        with CaptureQueriesContext(connection) as captured:
            get(params)
        sqls = [query["sql"] for query in captured.captured_queries]
        queries[label] = (len(sqls), sum(sql.startswith("SET search_path") for sql in sqls))
        if os.environ.get("BENCH_SQL") == "1":
            print(f"\n-- {label}: {len(sqls)} queries")
            for query in captured.captured_queries:
                print(f"  {query['time']}s  {query['sql'][:300]}")
    print()
    # The kinds take turns, so a change in the machine's load falls on all of them alike.
    timed = {label: [] for label in kinds}
    for _ in range(REQUESTS):
        for label, params in kinds.items():
            t0 = time.perf_counter()
            get(params)
            timed[label].append((time.perf_counter() - t0) * 1000)
    worst, most = 0.0, 0
    for label, times in timed.items():
        p95 = nearest_rank(times, 95)
        worst = max(worst, p95)
        print(f"{label} (100 tenants): p50 {statistics.median(times):.1f} ms  p95 {p95:.1f} ms  "
              f"max {max(times):.1f} ms  (n={len(times)})", flush=True)
    for label, (n, sets) in queries.items():
        most = max(most, n)
        print(f"queries {label}: {n} per request ({sets} of them SET search_path)")
    met = worst <= GOAL_P95_MS and most <= GOAL_QUERIES
    print(f"goal    p95 ≤ {GOAL_P95_MS:.0f} ms and ≤ {GOAL_QUERIES} queries: {'met' if met else 'MISSED'} "
          f"(worst p95 {worst:.1f} ms, most queries {most})")
    print(machine_line(f"django-tenants={version_of('django-tenants')}", f"psycopg={version_of('psycopg')}"),
          flush=True)


def main() -> int:
    return run_in_scratch_database("civicgrid_bench_province", run)


if __name__ == "__main__":
    sys.exit(main())

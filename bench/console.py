"""Console pages benchmark: one county with 2,000 grids and 100,000 cases.

Run from the repository root with a PostgreSQL server and Redis available:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    REDIS_URL=redis://127.0.0.1:6379/8 \
    .venv/bin/python bench/console.py

All the work happens in a scratch database, ``civicgrid_bench_console`` (BENCH_DB),
dropped at the end unless BENCH_KEEP=1. BENCH_CASES and BENCH_GRIDS change the sizes
(defaults 100,000 and 2,000); BENCH_RUNS the timed requests per page (default 40).

Not timed: migrating, onboarding the county, bulk-creating its grids (20 townships ×
10 communities × 10 grids, each with a square boundary) and COPY-loading the cases:
spread over the last 90 days, 85 % closed (handled, most rated, one in eight late),
the rest open at every step, each with a position inside its grid.

Timed, as server time (Django's test client in this process: every middleware, the
tenant from the host, the session, the second factor, the template), after three
warm-up requests, BENCH_RUNS requests per page as the command centre's operator:

* queue      -- /queue/ (the county desk's queue, counts per light, first page)
* case       -- /cases/<pk>/ for different cases
* grids      -- /map/grids.geojson (every grid's boundary)
* pins       -- /map/cases.geojson (the newest open cases with a position)
* dashboard  -- /dashboard/?days=30 (every figure of the last 30 days)
* dashboard90 - /dashboard/?days=90

Prints p50/p95/max milliseconds and the queries per page; django-tenants sends a
``SET search_path`` before each query (TENANT_LIMIT_SET_CALLS stays off: see
docs/architecture.md), counted apart. Goals: queue p95 ≤ 100 ms,
dashboard p95 ≤ 300 ms, no page above 30 queries. The province page with 100 tenants'
aggregates is timed by ``bench/province_page.py``.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import machine_line, onboarded_county, run_in_scratch_database, version_of  # noqa: E402

CASES = int(os.environ.get("BENCH_CASES", 100_000))
GRIDS = int(os.environ.get("BENCH_GRIDS", 2_000))
RUNS = int(os.environ.get("BENCH_RUNS", 40))
DAYS = 90
GOALS_MS = {"queue": 100, "dashboard": 300}
MAX_QUERIES = 30
HOST = "shangcheng.localhost"
ORIGIN = (120.10, 30.20)  # the south-west corner of the county's grid of grids
STEP = 0.004  # degrees: one grid's side


def main() -> int:
    os.environ.setdefault("CELERY_QUEUE", "civicgrid-bench-console")  # outbox relays asked for go nowhere real
    return run_in_scratch_database("civicgrid_bench_console", run)


def build_grids() -> list:
    """Townships, communities and grids in bulk, each grid a square, laid out in rows."""
    from civicgrid.platform.org.actions import grids_changed
    from civicgrid.platform.org.models import OrgUnit

    per_community, per_township = 10, 10
    townships = max(1, GRIDS // (per_community * per_township))
    columns = int((townships * per_township * per_community) ** 0.5) + 1
    units, grids, n = [], [], 0
    for t in range(townships):
        township = OrgUnit(code=f"B{t:02d}", name=f"压测街道{t}", level=OrgUnit.Level.TOWNSHIP)
        township.path = OrgUnit.path_for(township.code, None)
        units.append(township)
        for c in range(per_township):
            community = OrgUnit(code=f"{township.code}-C{c:02d}", name=f"压测社区{t}-{c}", level=OrgUnit.Level.VILLAGE,
                                parent=township)
            community.path = OrgUnit.path_for(community.code, township)
            units.append(community)
            for g in range(per_community):
                row, column = divmod(n, columns)
                west, south = ORIGIN[0] + column * STEP, ORIGIN[1] + row * STEP
                ring = [[west, south], [west + STEP, south], [west + STEP, south + STEP], [west, south + STEP],
                        [west, south]]
                grid = OrgUnit(code=f"{community.code}-G{g:02d}", name=f"压测网格{n}", level=OrgUnit.Level.GRID,
                               parent=community, boundary={"type": "Polygon", "coordinates": [ring]})
                grid.path = OrgUnit.path_for(grid.code, community)
                units.append(grid)
                grids.append(grid)
                n += 1
    # Parents first, so each child's foreign key points at a saved row.
    for level in (OrgUnit.Level.TOWNSHIP, OrgUnit.Level.VILLAGE, OrgUnit.Level.GRID):
        OrgUnit.objects.bulk_create([u for u in units if u.level == level], batch_size=2000)
        for unit in units:
            if unit.parent is not None:
                unit.parent_id = unit.parent.pk
    grids_changed()  # as the org actions and the boundary import do
    return [g for g in OrgUnit.objects.filter(level=OrgUnit.Level.GRID, code__startswith="B").order_by("code")]


def load_cases(now, grids) -> None:
    from django.db import connection

    from civicgrid.platform.cases.models import Case, Category, Source, Status
    from civicgrid.platform.org.models import Department

    rng = random.Random(2026)
    categories = list(Category.objects.filter(parent__isnull=False, is_active=True))
    departments = list(Department.objects.all())
    sources = [Source.GRID_WORKER, Source.HOTLINE_12345, Source.RESIDENT_SITE, Source.WECHAT]
    fields = [f for f in Case._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    open_steps = [Status.REPORTED, Status.ACCEPTED, Status.DISPATCHED, Status.IN_PROGRESS, Status.HANDLED]
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {Case._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
            for n in range(CASES):
                grid = grids[n % len(grids)]
                ring = grid.boundary["coordinates"][0]
                category = categories[rng.randrange(len(categories))]
                reported = now - timedelta(days=DAYS * rng.random() ** 1.3)
                closed = rng.random() < 0.85 and reported < now - timedelta(days=1)
                status = Status.CLOSED if closed else rng.choice(open_steps)
                accepted = reported + timedelta(hours=rng.uniform(0.1, 3)) if status != Status.REPORTED else None
                dispatched = accepted + timedelta(minutes=20) if accepted and status != Status.ACCEPTED else None
                handled = (dispatched + timedelta(hours=rng.uniform(2, 120))
                           if dispatched and status in (Status.HANDLED, Status.CLOSED) else None)
                handle_due = dispatched + timedelta(hours=72) if dispatched else None
                if handled and rng.random() < 0.125:
                    handle_due = handled - timedelta(hours=12)  # late
                rating = rng.choice((3, 4, 4, 5, 5, 5)) if closed and rng.random() < 0.8 else None
                row = {
                    "number": f"330102-BENCH-{n:07d}", "token": uuid.uuid4(), "title": f"压测事件 {n}",
                    "description": "", "category_id": category.pk, "source": rng.choice(sources),
                    "urgency": category.urgency, "status": status, "level": "county", "version": 3,
                    "reporter_name": "", "reporter_phone_index": "", "reporter_email": "",
                    "latitude": rng.uniform(ring[0][1], ring[2][1]), "longitude": rng.uniform(ring[0][0], ring[1][0]),
                    "address": "", "grid_id": grid.pk, "org_path": grid.path, "transferred_to": "",
                    "transferred_from": "", "client_key": "", "result": "已处置" if handled else "",
                    "rating": rating, "rating_comment": "", "overdue_marks": "[]", "updated_at": now,
                    "reported_at": reported, "accept_due": reported + timedelta(hours=2),
                    "accept_warn_at": reported + timedelta(hours=1.6), "accepted_at": accepted,
                    "dispatched_at": dispatched, "handle_due": handle_due,
                    "handle_warn_at": handle_due - timedelta(hours=14) if handle_due else None,
                    "handled_at": handled, "closed_at": handled + timedelta(hours=8) if closed else None,
                    "department_id": departments[n % len(departments)].pk if dispatched else None,
                }
                copy.write_row([row.get(column) for column in columns])
        # Hint bits, the visibility map and planner statistics, as autovacuum keeps them in a
        # live tenant (the first reads after a COPY would otherwise write every page).
        cursor.execute(f"VACUUM ANALYZE {Case._meta.db_table}")


def signed_in_operator():
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from civicgrid.platform.accounts.actions import create_staff_member
    from civicgrid.platform.accounts.staff.models import StaffRole

    member = create_staff_member(username="bench_operator", password="x" * 12, role=StaffRole.COMMAND_OPERATOR,
                                 acting_user=None)
    device = TOTPDevice.objects.create(user=member.user, name="authenticator", confirmed=True)
    client = Client(HTTP_HOST=HOST)
    client.force_login(member.user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id  # past the second factor, as after its page
    session.save()
    return client


def time_page(client, label: str, paths: list[str]) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for path in paths[:3]:
        assert client.get(path).status_code == 200, path
    timings, queries = [], []
    for i in range(RUNS):
        path = paths[i % len(paths)]
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            answer = client.get(path)
            if hasattr(answer, "streaming_content"):
                b"".join(answer.streaming_content)
            timings.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
        statements = [q["sql"] for q in captured.captured_queries]
        queries.append((sum(not sql.startswith("SET search_path") for sql in statements), len(statements)))
    timings.sort()
    figures = {"p50": statistics.median(timings), "p95": timings[int(0.95 * (len(timings) - 1))],
               "max": timings[-1], "queries": max(q for q, _ in queries), "statements": max(s for _, s in queries)}
    goal = GOALS_MS.get(label.rstrip("0123456789"))
    verdict = ""
    if goal:
        verdict = f"  goal p95 ≤ {goal} ms: {'met' if figures['p95'] <= goal else 'MISSED'}"
    print(f"{label:<12} p50 {figures['p50']:7.1f} ms  p95 {figures['p95']:7.1f} ms  max {figures['max']:7.1f} ms  "
          f"queries {figures['queries']:3d}{'' if figures['queries'] <= MAX_QUERIES else ' (over 30)'} "
          f"(+{figures['statements'] - figures['queries']} SET search_path){verdict}",
          flush=True)
    return figures


def run() -> None:
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from civicgrid.platform.cases.models import Case
    from civicgrid.province.demo import add_default_departments

    county = onboarded_county()
    with tenant_context(county):
        started = time.perf_counter()
        add_default_departments({})
        grids = build_grids()
        now = timezone.now()
        load_cases(now, grids)
        print(f"setup   {len(grids):,} grids and {CASES:,} cases loaded in {time.perf_counter() - started:.1f}s",
              flush=True)
        client = signed_in_operator()
        sample = list(Case.objects.order_by("?").values_list("pk", flat=True)[:RUNS])
        connection.set_schema_to_public()
    results = {
        "queue": time_page(client, "queue", ["/queue/"]),
        "case": time_page(client, "case", [f"/cases/{pk}/" for pk in sample]),
        "grids": time_page(client, "grids", ["/map/grids.geojson"]),
        "pins": time_page(client, "pins", ["/map/cases.geojson"]),
        "dashboard": time_page(client, "dashboard", ["/dashboard/?days=30"]),
        "dashboard90": time_page(client, "dashboard90", ["/dashboard/?days=90"]),
    }
    worst = max(r["queries"] for r in results.values())
    print(f"most queries on one page: {worst} (goal ≤ {MAX_QUERIES}: {'met' if worst <= MAX_QUERIES else 'MISSED'})")
    print(machine_line(f"django-tenants={version_of('django-tenants')}"), flush=True)


if __name__ == "__main__":
    sys.exit(main())

"""Case search benchmark: 1,000,000 synthetic Chinese cases in one county.

Run from the repository root with a PostgreSQL server and Redis available:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    REDIS_URL=redis://127.0.0.1:6379/7 \
    .venv/bin/python bench/search.py

All the work happens in a scratch database, ``civicgrid_bench_search`` (BENCH_DB),
dropped at the end (BENCH_KEEP=1 keeps it). BENCH_CASES changes the number of cases
(default 1,000,000), BENCH_RUNS the timed runs per query (default 10). While tuning:
BENCH_KEEP=1 keeps the database, BENCH_REUSE=1 runs again on it without the setup,
BENCH_REINDEX=0 skips the reindex, BENCH_ILIKE=0 the side-by-side database filter.

Not timed: migrating, onboarding the county with the demo org tree, COPY-loading
the cases (``search_corpus``: twenty kinds of problem at streets, compounds and
buildings, told in fragments, with timeline comments; reported over two years, most of
the last week's still open and few of last year's, about 4 % open in all) and their
timelines.

Timed:

* reindex -- ``indexing.reindex`` of the whole county (what ``civicgrid search
             reindex`` runs): cases/s;
* engine  -- twenty realistic searches, each as the console asks it (ranked, 20
             hits, facet counts of all matches), through the backend in use, as
             the command centre (everything), a department and a township;
* ilike   -- the same searches as a plain database filter, side by side in the
             same run: every word in the title or the description (``ILIKE``),
             the same filters and scope, the count and the newest 20. Per query,
             the search's runs come first, then the filter's, each after an
             untimed warm-up run.

Goals: search p95 ≤ 50 ms over 1,000,000 cases; reindex ≥ 5,000 cases/s.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import machine_line, onboarded_county, reusing, run_in_scratch_database, version_of  # noqa: E402
from bench.search_corpus import Corpus  # noqa: E402

CASES = int(os.environ.get("BENCH_CASES", 1_000_000))
RUNS = int(os.environ.get("BENCH_RUNS", 10))
WITH_ILIKE = os.environ.get("BENCH_ILIKE", "1") == "1"  # 0: the engine alone (while tuning it)
GOAL_P95_MS = 50.0
GOAL_REINDEX = 5_000
DAYS = 730


def open_share(age_days: int) -> float:
    """How many cases of an age are still open: most of this week's, few of last year's
    (about 4 % of the two years in all, as in a county's real backlog)."""
    return 0.8 if age_days < 7 else 0.4 if age_days < 30 else 0.05 if age_days < 180 else 0.01


@dataclass
class Query:
    text: str
    who: str = "operator"  # operator | handler | township
    filters: dict = field(default_factory=dict)

    def label(self) -> str:
        shown = ",".join(f"{k}={v:%Y-%m-%d}" if hasattr(v, "strftime") else f"{k}={v}"
                         for k, v in self.filters.items() if k != "statuses") + (",open" if "statuses" in self.filters
                                                                               else "")
        return f"{self.text} [{self.who}{',' + shown if shown else ''}]"


def queries(now, department_id) -> list[Query]:
    from civicgrid.platform.cases.models import OPEN_STATUSES

    open_ = {"statuses": tuple(str(s) for s in OPEN_STATUSES)}
    month = {"reported_after": now - timedelta(days=30)}
    return [
        Query("漏水"), Query("楼上漏水", filters=open_), Query("噪音 扰民", filters=month),
        Query("占道经营", filters={**open_, "category": "URB"}), Query("飞线充电"),
        Query("井盖", filters={"org_path": "T01/"}), Query("路灯不亮", filters=open_),
        Query("违章搭建 楼顶"), Query("拖欠工资", filters={"reported_after": now - timedelta(days=90)}),
        Query("独居老人"), Query("消防通道 堵塞", filters={"light": "red"}), Query("私拉电线 起火"),
        Query("油烟", who="handler"), Query("流浪犬", who="township"), Query("东坡路 井盖"),
        Query("金色家园 漏水", filters=open_), Query("积水", filters={"department_id": department_id}),
        Query("高空抛物", who="township", filters=open_), Query("业主电话无人接听"),
        Query("停车 纠纷", filters={"source": "hotline_12345"}),
    ]


def main() -> int:
    os.environ.setdefault("CELERY_QUEUE", "civicgrid-bench-search")
    return run_in_scratch_database("civicgrid_bench_search", run)


def load_cases(now) -> tuple[int, int]:
    """COPY the cases and their timelines; returns (cases, timeline rows)."""
    import random

    from django.db import connection

    from civicgrid.platform.cases.models import OPEN_STATUSES, Case, CaseEvent, Category, Source, Status
    from civicgrid.platform.org.models import Department, OrgUnit

    rng = random.Random(7)
    corpus = Corpus()
    categories = {c.code: c for c in Category.objects.filter(parent__isnull=False)}
    departments = [d.pk for d in Department.objects.all()]
    grids = list(OrgUnit.objects.filter(level=OrgUnit.Level.GRID).order_by("code"))
    open_statuses = [str(s) for s in OPEN_STATUSES if s not in (Status.REPORTED,)] + [str(Status.REPORTED)] * 2
    sources = [str(s) for s in Source.values]
    fields = [f for f in Case._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    events = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {Case._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
            for n in range(CASES):
                reported = now - timedelta(seconds=rng.uniform(0, DAYS * 86400))
                is_open = rng.random() < open_share((now - reported).days)
                drawn = corpus.case(handled=not is_open)
                category = categories[drawn.kind]
                grid = grids[n % len(grids)]
                status = rng.choice(open_statuses) if is_open else rng.choice([str(Status.CLOSED)] * 4 + [
                    str(Status.HANDLED)])
                held = status not in (Status.REPORTED, Status.ACCEPTED)
                row = {
                    "number": f"330102-{reported:%Y%m%d}-B{n:07d}", "token": uuid.uuid4(), "title": drawn.title,
                    "description": drawn.description, "category_id": category.pk, "source": rng.choice(sources),
                    "urgency": category.urgency, "version": 3, "reporter_name": "", "reporter_phone_index": "",
                    "reporter_email": "", "latitude": None, "longitude": None, "address": drawn.address,
                    "grid_id": grid.pk, "org_path": grid.path, "transferred_to": "", "transferred_from": "",
                    "result": drawn.result, "rating_comment": "", "overdue_marks": "[]", "updated_at": now,
                    "status": status, "level": "county", "reported_at": reported,
                    "accept_warn_at": reported + timedelta(hours=20), "accept_due": reported + timedelta(days=1),
                    "accepted_at": reported + timedelta(hours=2) if status != Status.REPORTED else None,
                    "dispatched_at": reported + timedelta(hours=3) if held else None,
                    "department_id": departments[n % len(departments)] if held else None,
                    "handle_warn_at": reported + timedelta(days=4) if held else None,
                    "handle_due": reported + timedelta(days=5) if held else None,
                    "handled_at": reported + timedelta(days=3) if status in (Status.HANDLED, Status.CLOSED) else None,
                    "closed_at": reported + timedelta(days=4) if status == Status.CLOSED else None,
                }
                copy.write_row([row.get(column) for column in columns])
        # Timelines: a dispatch naming the department, then the comments, for every case.
        cursor.execute(f"SELECT id, department_id, reported_at FROM {Case._meta.db_table} ORDER BY id")
        cases = cursor.fetchall()
        corpus = Corpus()  # the same draws again, for the comments
        with cursor.cursor.copy(f"COPY {CaseEvent._meta.db_table} (case_id, action, from_status, to_status, "
                                "actor_label, comment, data, created_at) FROM STDIN") as copy:
            for case_id, department_id, reported in cases:
                drawn = corpus.case(handled=True)  # the same draws as above: each case's own comments
                if department_id:
                    copy.write_row((case_id, "dispatch", "accepted", "dispatched", "op1", "",
                                    f'{{"department": {department_id}}}', reported + timedelta(hours=3)))
                    events += 1
                for i, comment in enumerate(drawn.comments):
                    copy.write_row((case_id, "comment", "", "dispatched", "op1", comment, "{}",
                                    reported + timedelta(hours=4 + i)))
                    events += 1
        cursor.execute(f"ANALYZE {Case._meta.db_table}")
        cursor.execute(f"ANALYZE {CaseEvent._meta.db_table}")
    return len(cases), events


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(round(share * len(ordered) + 0.5)) - 1))]


def ilike_search(staff, query: Query, now, filters):
    """The plain database filter: every word in the title or the description, the same
    filters and scope; the count and the newest 20."""
    from django.db.models import Q

    from civicgrid.platform.cases.lights import with_lights
    from civicgrid.platform.cases.models import Category
    from civicgrid.platform.cases.selectors import cases_for
    from civicgrid.search.segment import query_words

    cases = cases_for(staff)
    for word in query_words(query.text):
        cases = cases.filter(Q(title__icontains=word) | Q(description__icontains=word))
    if filters.statuses:
        cases = cases.filter(status__in=filters.statuses)
    if filters.category:
        cases = cases.filter(category__in=Category.objects.filter(Q(code=filters.category)
                                                                  | Q(parent__code=filters.category)))
    if filters.source:
        cases = cases.filter(source=filters.source)
    if filters.department_id:
        cases = cases.filter(department_id=filters.department_id)
    if filters.org_path:
        cases = cases.filter(org_path__startswith=filters.org_path)
    if filters.reported_after:
        cases = cases.filter(reported_at__gte=filters.reported_after)
    if filters.light:
        cases = with_lights(cases, now).filter(light=filters.light)
    total = cases.count()
    hits = list(cases.order_by("-reported_at", "-pk").values_list("pk", flat=True)[:20])
    return total, hits


def set_up():
    """Migrate, onboard the county with its org tree and staff, load the cases (not timed)."""
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from civicgrid.platform.accounts.actions import create_staff_member
    from civicgrid.platform.accounts.staff.models import StaffRole
    from civicgrid.platform.org.demo import build_demo_tree
    from civicgrid.platform.org.models import Department, OrgUnit

    county = onboarded_county()
    with tenant_context(county):
        build_demo_tree(center=(120.17, 30.24))
        department = Department.objects.order_by("code").first()
        create_staff_member(username="op1", password="x" * 12, role=StaffRole.COMMAND_OPERATOR, acting_user=None)
        create_staff_member(username="handler1", password="x" * 12, role=StaffRole.DEPARTMENT_HANDLER,
                            scope_department=department, acting_user=None)
        create_staff_member(username="township1", password="x" * 12, role=StaffRole.TOWNSHIP_OPERATOR,
                            scope_org_unit=OrgUnit.objects.get(code="T01"), acting_user=None)
        now = timezone.now()
        started = time.perf_counter()
        cases, events = load_cases(now)
        print(f"setup   {cases:,} cases and {events:,} timeline rows COPY-loaded in "
              f"{time.perf_counter() - started:.1f}s", flush=True)
    return county, now


def run() -> None:
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from civicgrid.platform.accounts.staff.models import StaffProfile
    from civicgrid.platform.cases.models import Case
    from civicgrid.platform.cases.selectors import scope_of
    from civicgrid.platform.org.models import Department
    from civicgrid.search import indexing
    from civicgrid.search.backends import backend
    from civicgrid.search.query import SearchFilters, SearchRequest

    print(f"settings={os.environ['DJANGO_SETTINGS_MODULE']} database={connection.settings_dict['NAME']} "
          f"backend={backend().name}", flush=True)
    if reusing():  # a kept database: the county, its staff and cases are there
        from civicgrid.tenants.models import Tenant

        county = Tenant.objects.get(schema_name="shangcheng")
        now = timezone.now()
    else:
        county, now = set_up()
    with tenant_context(county):
        cases = Case.objects.count()
        department = Department.objects.order_by("code").first()
        if os.environ.get("BENCH_REINDEX", "1") == "1":
            last = [0.0]

            def show(done, total):
                if time.perf_counter() - last[0] > 10 or done == total:
                    last[0] = time.perf_counter()
                    print(f"reindex {done:,}/{total:,}", flush=True)

            report = indexing.reindex(progress=show)
            print(f"reindex {report.cases:,} cases in {report.seconds:.1f}s: {report.rate:,.0f} cases/s", flush=True)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE search_casedocument")  # what autovacuum does after a bulk load
                cursor.execute("""SELECT pg_size_pretty(sum(pg_total_relation_size(relid))),
                                         count(*) FILTER (WHERE isleaf)
                                  FROM pg_partition_tree('search_casedocument')""")
                size, months = cursor.fetchone()
            print(f"index   search_casedocument {size} in {months} monthly partitions", flush=True)
        else:
            report = None

        staff = {name: StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department")
                 .get(user__username=username)
                 for name, username in (("operator", "op1"), ("handler", "handler1"), ("township", "township1"))}
        engine, schema = backend(), connection.schema_name
        engine_ms, ilike_ms = [], []
        print(f"\n{'query':<52} {'engine p50':>10} {'ilike p50':>10} {'hits':>8} {'ilike hits':>10}", flush=True)
        for query in queries(now, department.pk):
            filters = SearchFilters(**query.filters)
            request = SearchRequest(text=query.text, scope=scope_of(staff[query.who]), filters=filters, now=now)
            mine, theirs = [], []
            # Each side's runs together, each after an untimed warm-up run: a plain filter's
            # scans of the whole case table between two searches would measure the search
            # on caches that the filter just churned, which is not how either runs alone.
            for run_number in range(RUNS + 1):
                t0 = time.perf_counter()
                result = engine.search(schema, request)
                if run_number:
                    mine.append((time.perf_counter() - t0) * 1000)
            total = 0
            for run_number in range(RUNS + 1 if WITH_ILIKE else 0):
                t0 = time.perf_counter()
                total, _hits = ilike_search(staff[query.who], query, now, filters)
                if run_number:
                    theirs.append((time.perf_counter() - t0) * 1000)
            theirs = theirs or [0.0]
            engine_ms += mine
            ilike_ms += theirs
            hits = f"{result.total:,}" + ("" if result.total_is_exact else "+")
            print(f"{query.label():<52} {statistics.median(mine):>8.1f}ms {statistics.median(theirs):>8.1f}ms "
                  f"{hits:>8} {total:>10,}", flush=True)

    e50, e95 = percentile(engine_ms, 0.5), percentile(engine_ms, 0.95)
    i50, i95 = percentile(ilike_ms, 0.5), percentile(ilike_ms, 0.95)
    print()
    print(f"engine  n={len(engine_ms)} p50={e50:.1f}ms p95={e95:.1f}ms max={max(engine_ms):.1f}ms "
          f"over {cases:,} cases; goal p95 ≤ {GOAL_P95_MS:.0f}ms: {'met' if e95 <= GOAL_P95_MS else 'MISSED'}")
    if WITH_ILIKE:
        print(f"ilike   n={len(ilike_ms)} p50={i50:.1f}ms p95={i95:.1f}ms max={max(ilike_ms):.1f}ms")
        print(f"ratio   ilike / engine p50={i50 / e50:.1f}x p95={i95 / e95:.1f}x (same queries, same run)")
    if report:
        print(f"reindex {report.rate:,.0f} cases/s; goal ≥ {GOAL_REINDEX:,}: "
              f"{'met' if report.rate >= GOAL_REINDEX else 'MISSED'}")
    print(machine_line(f"psycopg={version_of('psycopg')}", f"rjieba={version_of('rjieba')}"), flush=True)


if __name__ == "__main__":
    sys.exit(main())

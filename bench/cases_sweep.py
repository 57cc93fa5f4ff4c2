"""Deadline sweep benchmark: one county with 100,000 open cases.

Run from the repository root with a PostgreSQL server and Redis available:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    REDIS_URL=redis://127.0.0.1:6379/7 \
    .venv/bin/python bench/cases_sweep.py

DATABASE_URL only says which server to use. All the work happens in a scratch
database, ``civicgrid_bench_sweep`` (override with BENCH_DB), dropped and recreated at
the start and dropped at the end (BENCH_KEEP=1 keeps it). BENCH_CASES changes the
number of open cases (default 100,000).

Not timed: migrating, onboarding a county with the demo org tree and its staff
(command, township and community operators, two handlers per department), and
COPY-loading the cases. Their deadlines and warn moments are worked out on the real
working calendar from a start that lies the right number of working hours before now,
so the lights come out exactly as drawn: 60% green, 25% yellow, 15% red. 8% of the cases
wait to be accepted (a quarter of those at community and 8% at township level, where
a missed deadline escalates), the rest are with a department. A third of the yellow and
red cases were already reminded by an earlier sweep, and a third of the red ones
already carry their overdue mark (and those at community or township level were
escalated by that sweep).

Timed:

* lights -- ``lights.with_lights`` counting the cases per light in SQL;
* first  -- the sweep with all its rules: reminders (one notification per person who
            must act), overdue facts (mark, timeline entry, outbox event) and automatic
            escalation through ``actions.escalate_case``;
* second -- the sweep again at once: it should find nothing left to do.

Goal: the sweep over 100,000 open cases in ≤ 10 s.
"""

from __future__ import annotations

import bisect
import os
import random
import sys
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import machine_line, onboarded_county, run_in_scratch_database, version_of  # noqa: E402

CASES = int(os.environ.get("BENCH_CASES", 100_000))
GOAL_SECONDS = 10.0
LIGHT_MIX = (("green", 0.60), ("yellow", 0.25), ("red", 0.15))
ACCEPTING_SHARE = 0.08
LEVEL_MIX = (("community", 0.25), ("township", 0.08), ("county", 0.67))
# How much of its working time a case has used, by the light it should show.
USED = {"green": (0.05, 0.78), "yellow": (0.82, 0.98), "red": (1.02, 6.0)}


def main() -> int:
    # The sweep's escalations ask for outbox relays after commit: keep them off any real queue.
    os.environ.setdefault("CELERY_QUEUE", "civicgrid-bench-sweep")
    return run_in_scratch_database("civicgrid_bench_sweep", run)


def pick(rng: random.Random, mix) -> str:
    roll, total = rng.random(), 0.0
    for name, share in mix:
        total += share
        if roll < total:
            return name
    return mix[-1][0]


class WorkingPast:
    """Moments a given number of working hours before ``now``, from the tenant calendar's
    working periods laid out backwards (the calendar itself only counts forwards)."""

    def __init__(self, calendar, now: datetime, days: int = 400):
        ends, used = [], []  # per period, newest first: its end (clipped at now), working seconds before it
        total = 0.0
        local_now = now.astimezone(calendar.tz)
        for back in range(days):
            day = (local_now - timedelta(days=back)).date()
            if not calendar.is_working_day(day):
                continue
            for begin, end in reversed(calendar.hours.periods):
                start = datetime.combine(day, begin, tzinfo=calendar.tz)
                stop = min(datetime.combine(day, end, tzinfo=calendar.tz), local_now)
                if stop <= start:
                    continue
                ends.append((stop, start))
                used.append(total)
                total += (stop - start).total_seconds()
        self.periods, self.used = ends, used

    def before(self, hours: float) -> datetime:
        seconds = hours * 3600
        i = bisect.bisect_right(self.used, seconds) - 1
        stop, start = self.periods[i]
        return max(stop - timedelta(seconds=seconds - self.used[i]), start)


def load_cases(now) -> dict:
    """COPY CASES open cases; returns what was drawn, for checking."""
    from collections import Counter

    from django.db import connection

    from civicgrid.platform.cases import deadlines
    from civicgrid.platform.cases.models import Case, CaseEvent, Category, Source, Status
    from civicgrid.platform.cases.rules import NEXT_LEVEL
    from civicgrid.platform.org.models import Department, OrgUnit

    calendar = deadlines.tenant_calendar()
    past = WorkingPast(calendar, now)
    rng = random.Random(2026)
    categories = list(Category.objects.filter(parent__isnull=False, is_active=True))
    departments = list(Department.objects.all())
    grids = list(OrgUnit.objects.filter(level=OrgUnit.Level.GRID).order_by("code"))
    share = deadlines.YELLOW_SHARE
    fields = [f for f in Case._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    drawn = Counter()
    escalated_before = []
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {Case._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
            for n in range(CASES):
                category = categories[n % len(categories)]
                grid = grids[n % len(grids)]
                light = pick(rng, LIGHT_MIX)
                accepting = rng.random() < ACCEPTING_SHARE
                factor = deadlines.URGENCY_FACTOR[category.urgency]
                hours = (category.accept_hours if accepting else category.handle_hours) * factor
                used = Decimal(str(round(rng.uniform(*USED[light]), 4))) * hours
                start = past.before(float(used))
                warn = calendar.add_working_hours(start, hours * share)
                due = calendar.add_working_hours(start, hours)
                row = {
                    "number": f"330102-BENCH-{n:07d}", "token": uuid.uuid4(), "title": f"压测事件 {n}",
                    "description": "", "category_id": category.pk, "source": Source.GRID_WORKER,
                    "urgency": category.urgency, "version": 2, "reporter_name": "", "reporter_phone_index": "",
                    "reporter_email": "", "latitude": None, "longitude": None, "address": "", "grid_id": grid.pk,
                    "org_path": grid.path, "transferred_to": "", "transferred_from": "", "result": "",
                    "rating_comment": "", "overdue_marks": "[]", "updated_at": now, "client_key": "",
                }
                marked = light == "red" and rng.random() < 1 / 3
                reminded = light in ("yellow", "red") and (marked or rng.random() < 1 / 3)
                if accepting:
                    level = pick(rng, LEVEL_MIX)
                    row.update(status=Status.REPORTED, level=level, reported_at=start, accept_warn_at=warn,
                               accept_due=due)
                    phase = "accept"
                else:
                    level = "county"
                    accept_hours = category.accept_hours * factor
                    reported = past.before(float(used + accept_hours / 2))
                    row.update(status=rng.choice([Status.DISPATCHED, Status.IN_PROGRESS]), level=level,
                               reported_at=reported,
                               accept_warn_at=calendar.add_working_hours(reported, accept_hours * share),
                               accept_due=calendar.add_working_hours(reported, accept_hours),
                               accepted_at=start, dispatched_at=start, department_id=departments[n % len(departments)].pk,
                               handle_warn_at=warn, handle_due=due)
                    phase = "handle"
                if marked:
                    row["overdue_marks"] = f'["{phase}"]'
                    if accepting and level != "county":  # the earlier sweep escalated it, too
                        row.update(status=Status.ESCALATED, level=NEXT_LEVEL[level])
                        escalated_before.append(row["number"])
                if reminded:
                    row["reminded_at"] = max(warn, now - timedelta(minutes=5))
                drawn[light] += 1
                drawn[f"{phase}_{light}"] += 1
                if accepting and light == "red" and level != "county" and not marked:
                    drawn["escalatable"] += 1
                copy.write_row([row.get(column) for column in columns])
        drawn["escalated_before"] = len(escalated_before)
        cursor.execute(
            f"INSERT INTO {CaseEvent._meta.db_table} (case_id, action, from_status, to_status, actor_label, comment, "
            "data, created_at) SELECT id, 'escalate', 'reported', 'escalated', 'system', '', "
            "'{\"automatic\": true}'::jsonb, least(accept_due + interval '1 minute', %s) "
            f"FROM {Case._meta.db_table} WHERE number = ANY(%s)", [now, escalated_before])
        # Planner statistics, as autovacuum keeps them in a live tenant.
        cursor.execute(f"ANALYZE {Case._meta.db_table}")
        cursor.execute(f"ANALYZE {CaseEvent._meta.db_table}")
    return drawn


def run() -> None:
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from civicgrid.config.celery import app
    from civicgrid.platform.accounts.actions import create_staff_member
    from civicgrid.platform.accounts.staff.models import StaffRole
    from civicgrid.platform.cases.lights import with_lights
    from civicgrid.platform.cases.models import Case, CaseEvent
    from civicgrid.platform.cases.sweep import sweep
    from civicgrid.platform.notifications.models import Notification, OutboxEvent
    from civicgrid.platform.org.demo import build_demo_tree
    from civicgrid.platform.org.models import Department, OrgUnit

    print(f"settings={os.environ['DJANGO_SETTINGS_MODULE']} database={connection.settings_dict['NAME']}", flush=True)
    county = onboarded_county()

    with tenant_context(county):
        build_demo_tree(center=(120.17, 30.24))
        staff = [("op1", StaffRole.COMMAND_OPERATOR, None, None), ("op2", StaffRole.COMMAND_OPERATOR, None, None)]
        for unit in OrgUnit.objects.exclude(level=OrgUnit.Level.GRID):
            role = StaffRole.TOWNSHIP_OPERATOR if unit.parent_id is None else StaffRole.COMMUNITY_OPERATOR
            staff.append((f"op_{unit.code}", role, unit, None))
        for department in Department.objects.all():
            for k in (1, 2):
                staff.append((f"h{k}_{department.code}", StaffRole.DEPARTMENT_HANDLER, None, department))
        for username, role, unit, department in staff:
            create_staff_member(username=username, password="x" * 12, role=role, scope_org_unit=unit,
                                scope_department=department, acting_user=None)
        now = timezone.now()
        started = time.perf_counter()
        drawn = load_cases(now)
        print(f"setup   {CASES:,} open cases COPY-loaded in {time.perf_counter() - started:.1f}s; "
              f"{len(staff)} staff; drawn {dict(sorted(drawn.items()))}", flush=True)

        connection.ensure_connection()
        t0 = time.perf_counter()
        counted = _count_lights(with_lights(Case.objects.all(), now))
        lights_time = time.perf_counter() - t0
        expected = {k: drawn[k] for k in ("green", "yellow", "red")}
        print(f"lights  with_lights over {CASES:,} cases: {lights_time:.2f}s {counted} "
              f"({'as drawn' if counted == expected else f'DIFFERS from drawn {expected}'})", flush=True)

        before = (Notification.objects.count(), CaseEvent.objects.count(), OutboxEvent.objects.count())
        # Both runs judge the same moment: what the second finds is what the first left,
        # not cases whose deadlines passed while the first was running.
        moment = timezone.now()
        first = sweep(now=moment)
        second = sweep(now=moment)
        after = (Notification.objects.count(), CaseEvent.objects.count(), OutboxEvent.objects.count())
        print(f"first   {first}", flush=True)
        print(f"second  {second}", flush=True)
        print(f"rows    notifications +{after[0] - before[0]:,}, timeline +{after[1] - before[1]:,}, "
              f"outbox +{after[2] - before[2]:,}", flush=True)
        app.control.purge()

    overdue = first["overdue_accept"] + first["overdue_handle"]
    nothing_more = all(not second[k] for k in ("reminded", "overdue_accept", "overdue_handle", "escalated"))
    print()
    print(f"sweep   n={CASES:,} first={first['seconds']:.2f}s second={second['seconds']:.2f}s "
          f"reminded={first['reminded']:,} overdue={overdue:,} escalated={first['escalated']:,} "
          f"notifications={first['notifications']:,} -- second run {'did nothing' if nothing_more else 'ACTED'}; "
          f"goal ≤ {GOAL_SECONDS:.0f}s per {CASES:,}: {'met' if first['seconds'] <= GOAL_SECONDS else 'MISSED'}",
          flush=True)
    print(machine_line(f"psycopg={version_of('psycopg')}"), flush=True)


def _count_lights(cases) -> dict:
    from django.db.models import Count

    return dict(cases.values_list("light").annotate(n=Count("pk")).order_by("light"))


if __name__ == "__main__":
    sys.exit(main())

"""The dashboard's figures over the actor's visible cases for a period: volume per day; by
category, source and grid; lights now; handling time; on-time rate; satisfaction; the most
frequent problems. Each is one grouped query; each row carries the filter that lists its
cases, so every figure drills down to the cases behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.org.models import OrgUnit
from civicgrid.tenants import replicas

from .lights import with_lights
from .models import OPEN_STATUSES, Case, Category, Source
from .queues import light_counts
from .selectors import cases_for

TOP = 10


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        tz = timezone.get_current_timezone()
        low = timezone.make_aware(datetime.combine(self.start, datetime.min.time()), tz)
        return low, low + timedelta(days=(self.end - self.start).days + 1)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def filter(self) -> dict[str, str]:
        return {"reported_from": self.start.isoformat(), "reported_to": self.end.isoformat()}


def last_days(days: int, today: date | None = None) -> Period:
    today = today or timezone.localdate()
    return Period(today - timedelta(days=days - 1), today)


def reported_in(staff: StaffProfile, period: Period) -> QuerySet[Case]:
    low, high = period.bounds
    return cases_for(staff).filter(reported_at__gte=low, reported_at__lt=high).order_by()


# One scan of the period's cases for every grouped figure (PostgreSQL's GROUPING SETS): per
# day, per kind, per source, per grid, per leaf category, and the grand total with the
# handling figures. A dashboard over tens of thousands of cases reads them once, not six times.
GROUPED_SQL = """
WITH period AS ({cases}),
     labelled AS (
       SELECT period.*, (period.reported_at AT TIME ZONE %s)::date AS day, category.parent_id AS kind
       FROM period JOIN cases_category category ON category.id = period.category_id)
SELECT GROUPING(day), GROUPING(kind), GROUPING(source), GROUPING(grid_id), GROUPING(category_id),
       day, kind, source, grid_id, category_id, count(*),
       count(*) FILTER (WHERE handled_at IS NOT NULL),
       extract(epoch FROM avg(handled_at - reported_at) FILTER (WHERE handled_at IS NOT NULL)),
       count(*) FILTER (WHERE handled_at IS NOT NULL AND handle_due IS NOT NULL AND handled_at <= handle_due),
       count(*) FILTER (WHERE handled_at IS NOT NULL AND rating IS NOT NULL),
       avg(rating) FILTER (WHERE handled_at IS NOT NULL),
       count(*) FILTER (WHERE handled_at IS NOT NULL AND rating >= 4),
       count(*) FILTER (WHERE handled_at IS NOT NULL AND status = 'closed')
FROM labelled
GROUP BY GROUPING SETS ((day), (kind), (source), (grid_id), (category_id), ())
"""


def _grouped(cases: QuerySet[Case]) -> tuple[dict[str, dict], dict]:
    """({"day"|"kind"|"source"|"grid"|"category": {key: count}}, handling figures of the period)."""
    base = cases.values("id", "reported_at", "category_id", "source", "grid_id", "handled_at", "handle_due",
                        "rating", "status")
    sql, params = base.query.sql_with_params()
    groups = {"day": {}, "kind": {}, "source": {}, "grid": {}, "category": {}}
    handling_row = None
    with replicas.read_connection().cursor() as cursor:  # the replica inside a dashboard
        cursor.execute(GROUPED_SQL.format(cases=sql), [*params, timezone.get_current_timezone_name()])
        for row in cursor.fetchall():
            grouped_out = row[:5]
            day, kind, source, grid_id, category_id, n = row[5:11]
            if grouped_out == (0, 1, 1, 1, 1):
                groups["day"][day] = n
            elif grouped_out == (1, 0, 1, 1, 1):
                groups["kind"][kind] = n
            elif grouped_out == (1, 1, 0, 1, 1):
                groups["source"][source] = n
            elif grouped_out == (1, 1, 1, 0, 1):
                if grid_id is not None:
                    groups["grid"][grid_id] = n
            elif grouped_out == (1, 1, 1, 1, 0):
                groups["category"][category_id] = n
            else:
                handling_row = row[10:]
    return groups, _handling(handling_row)


def _handling(row) -> dict:
    """Of the period's cases handled so far: average hours from report to handled, the share
    handled by their deadline, and the residents' satisfaction (average of 1–5, share of 4–5)."""
    _total, n, seconds, on_time, rated, rating, satisfied, closed = row or (0, 0, None, 0, 0, None, 0, 0)
    return {
        "handled": n,
        "average_hours": round(float(seconds) / 3600, 1) if seconds is not None else None,
        "on_time_rate": round(100 * on_time / n, 1) if n else None,
        "rated": rated,
        "average_rating": round(float(rating), 2) if rating is not None else None,
        "satisfaction_rate": round(100 * satisfied / rated, 1) if rated else None,
        "closed": closed,
    }


def _ranked(counts: dict, top: int | None = None) -> list:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return ordered[:top] if top else ordered


def _label(category: Category) -> str:
    return category.name_en if get_language() == "en" and category.name_en else category.name


def lights_now(staff: StaffProfile, now: datetime | None = None) -> list[dict]:
    counts = light_counts(with_lights(cases_for(staff).filter(status__in=OPEN_STATUSES), now))
    return [{"label": light, "value": counts[light], "filter": {"status": "open", "light": light}}
            for light in ("red", "yellow", "green")]


def dashboard(staff: StaffProfile, period: Period, now: datetime | None = None) -> dict:
    groups, handling = _grouped(reported_in(staff, period))
    categories = {c.pk: c for c in Category.objects.all()}
    top_grids = {pk: (code, name) for pk, code, name in OrgUnit.objects.filter(
        pk__in=[pk for pk, _n in _ranked(groups["grid"], TOP)]).values_list("pk", "code", "name")}
    sources = dict(Source.choices)
    volume = [{"label": day.isoformat(), "value": groups["day"].get(day, 0),
               "filter": {"reported_from": day.isoformat(), "reported_to": day.isoformat()}} for day in period.days]
    return {
        "total": sum(groups["day"].values()),
        "volume": volume,
        "by_category": [{"label": _label(categories[kind]) if kind in categories else "—", "value": n,
                         "filter": {"kind": categories[kind].code} if kind in categories else {}}
                        for kind, n in _ranked(groups["kind"])],
        "by_source": [{"label": str(sources.get(source, source)), "value": n, "filter": {"source": source}}
                      for source, n in _ranked(groups["source"])],
        "by_grid": [{"label": top_grids[pk][1], "value": n, "filter": {"grid": top_grids[pk][0]}}
                    for pk, n in _ranked(groups["grid"], TOP) if pk in top_grids],
        "top_problems": [{"label": _label(categories[pk]), "value": n, "filter": {"category": categories[pk].code}}
                         for pk, n in _ranked(groups["category"], TOP) if pk in categories],
        "lights": lights_now(staff, now),
        "handling": handling,
    }

"""Supervision above the county: reads of the aggregates tenants publish (``models``), for
the province's page (every active city and county) and a city's page (its counties).

Every figure here comes from ``DailyTotal`` and ``DailyAggregate`` in ``public``; nothing
reads a tenant schema. The tenants come with their latest overdue count (one query), the
period's table is one grouped query over the totals, the trend one (two with a tenant
chosen) and a chosen tenant's breakdown by kind and township one each.

Rates over a period are ratios of the period's sums (not means of daily rates):
on-time rate = handled on time / handled; satisfaction = rated 4-5 / rated; average
rating = sum of ratings / rated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Max, OuterRef, QuerySet, Subquery, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from civicgrid.tenants.models import Tenant
from civicgrid.tenants.selectors import PUBLIC_SCHEMA

from .models import MEASURES, DailyAggregate, DailyTotal

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30

# What a tenant can be ranked and the map coloured by: (label, higher is better).
RANKED = {
    "on_time_rate": (_("On-time rate"), True),
    "satisfaction_rate": (_("Satisfaction"), True),
    "overdue_open": (_("Overdue open now"), False),
    "reported": (_("Cases reported"), True),
    "handled": (_("Handled"), True),
}
DEFAULT_MEASURE = "on_time_rate"
# Columns the table sorts by: the ranked measures plus these.
SORTABLE = ("rank", "name", "division_code", *RANKED)
DEFAULT_SORT = "rank"


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def last_days(days: int, today: date | None = None) -> Period:
    today = today or timezone.localdate()
    return Period(today - timedelta(days=days - 1), today)


@dataclass
class TenantFigures:
    tenant: Tenant
    reported: int = 0
    accepted: int = 0
    accepted_on_time: int = 0
    handled: int = 0
    handled_on_time: int = 0
    closed: int = 0
    rated: int = 0
    rating_sum: int = 0
    satisfied: int = 0
    overdue_open: int | None = None  # on the latest published day; None: never published
    latest_day: date | None = None
    published_at: datetime | None = None
    rank: int | None = None

    @property
    def code(self) -> str:
        return self.tenant.division_code

    @property
    def name(self) -> str:
        return self.tenant.name

    @property
    def on_time_rate(self) -> float | None:
        return _share(self.handled_on_time, self.handled)

    @property
    def accepted_on_time_rate(self) -> float | None:
        return _share(self.accepted_on_time, self.accepted)

    @property
    def satisfaction_rate(self) -> float | None:
        return _share(self.satisfied, self.rated)

    @property
    def average_rating(self) -> float | None:
        return round(self.rating_sum / self.rated, 2) if self.rated else None

    def value(self, key: str):
        if key == "name":
            return self.tenant.name
        if key == "division_code":
            return self.tenant.division_code
        return getattr(self, key)


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass
class Supervision:
    period: Period
    measure: str
    sort: str
    rows: list[TenantFigures]
    totals: TenantFigures
    trend: list[dict]
    chosen: TenantFigures | None = None
    chosen_trend: list[dict] = field(default_factory=list)
    by_kind: list[dict] = field(default_factory=list)
    by_township: list[dict] = field(default_factory=list)


# --- scopes ---------------------------------------------------------------------------------


def province_scope() -> QuerySet[Tenant]:
    """Every active city and county."""
    return (Tenant.objects.exclude(schema_name=PUBLIC_SCHEMA).filter(status=Tenant.Status.ACTIVE)
            .select_related("parent").order_by("division_code"))


def city_scope(city: Tenant) -> QuerySet[Tenant]:
    """A city's active counties; 404 on any tenant that is not a city."""
    if city.level != Tenant.Level.CITY:
        raise Http404
    return province_scope().filter(parent=city, level=Tenant.Level.COUNTY)


# --- the page's figures ---------------------------------------------------------------------


def supervise(scope: QuerySet[Tenant], period: Period, *, measure: str = DEFAULT_MEASURE, sort: str = DEFAULT_SORT,
              chosen_code: str = "") -> Supervision:
    measure = measure if measure in RANKED else DEFAULT_MEASURE
    sort = sort if sort.lstrip("-") in SORTABLE else DEFAULT_SORT
    # Overdue now: each tenant's latest published day up to the end of the period, read with
    # the tenants (an index probe of (tenant, day) each).
    latest = DailyTotal.objects.filter(tenant_id=OuterRef("pk"), day__lte=period.end).order_by("-day")
    tenants = list(scope.annotate(latest_day=Subquery(latest.values("day")[:1]),
                                  latest_overdue=Subquery(latest.values("overdue_open")[:1]),
                                  latest_published_at=Subquery(latest.values("published_at")[:1])))
    rows = {tenant.pk: TenantFigures(tenant, overdue_open=tenant.latest_overdue, latest_day=tenant.latest_day,
                                     published_at=tenant.latest_published_at) for tenant in tenants}
    in_period = DailyTotal.objects.filter(tenant__in=scope.values("pk"), day__gte=period.start, day__lte=period.end)

    summed = [key for key in MEASURES if key != "overdue_open"]
    for sums in in_period.values("tenant_id").order_by().annotate(**{key: Sum(key) for key in summed}):
        figures = rows[sums["tenant_id"]]
        for key in summed:
            setattr(figures, key, sums[key] or 0)

    ordered = list(rows.values())
    _rank(ordered, measure)
    _sort(ordered, sort)
    totals = _totals(ordered)
    result = Supervision(period=period, measure=measure, sort=sort, rows=ordered, totals=totals,
                         trend=_trend(in_period, period))
    if chosen_code:
        chosen = next((row for row in ordered if row.code == chosen_code), None)
        if chosen is None:
            raise Http404  # not in this page's scope: missing and forbidden look the same
        result.chosen = chosen
        result.chosen_trend = _trend(in_period.filter(tenant=chosen.tenant), period)
        result.by_kind = _breakdown(chosen.tenant, period, "kind")
        result.by_township = _breakdown(chosen.tenant, period, "org_unit")
    return result


def _rank(rows: list[TenantFigures], measure: str) -> None:
    """Places by ``measure``, best first; equal figures share a place; no figure, no place."""
    _label, higher_is_better = RANKED[measure]
    judged = sorted((row for row in rows if row.value(measure) is not None),
                    key=lambda row: row.value(measure), reverse=higher_is_better)
    place, previous = 0, object()
    for index, row in enumerate(judged, start=1):
        if row.value(measure) != previous:
            place, previous = index, row.value(measure)
        row.rank = place


def _sort(rows: list[TenantFigures], sort: str) -> None:
    key, descending = sort.lstrip("-"), sort.startswith("-")
    rows.sort(key=lambda row: row.code)
    present = [row for row in rows if row.value(key) is not None]
    missing = [row for row in rows if row.value(key) is None]
    present.sort(key=lambda row: row.value(key), reverse=descending)
    rows[:] = present + missing  # rows without the figure last, either way


def _totals(rows: list[TenantFigures]) -> TenantFigures:
    totals = TenantFigures(Tenant(name="", division_code=""))
    for key in MEASURES:
        if key == "overdue_open":
            published = [row.overdue_open for row in rows if row.overdue_open is not None]
            totals.overdue_open = sum(published) if published else None
        else:
            setattr(totals, key, sum(getattr(row, key) for row in rows))
    return totals


def _trend(totals: QuerySet[DailyTotal], period: Period) -> list[dict]:
    by_day = {row["day"]: row for row in totals.values("day").order_by().annotate(
        reported=Sum("reported"), handled=Sum("handled"), handled_on_time=Sum("handled_on_time"),
        overdue_open=Sum("overdue_open"))}
    trend = []
    for day in period.days:
        row = by_day.get(day)
        trend.append({
            "day": day.isoformat(),
            "reported": row["reported"] if row else 0,
            "handled": row["handled"] if row else 0,
            "on_time_rate": _share(row["handled_on_time"], row["handled"]) if row else None,
            "overdue_open": row["overdue_open"] if row else None,
        })
    return trend


def _breakdown(tenant: Tenant, period: Period, by: str) -> list[dict]:
    """A chosen tenant's period by kind (a leaf's group) or by township, from its detail rows."""
    code, name, name_en = (("kind_code", "kind_name", "kind_name_en") if by == "kind"
                           else ("org_unit_code", "org_unit_name", "org_unit_name"))
    rows = (DailyAggregate.objects.filter(tenant=tenant, day__gte=period.start, day__lte=period.end)
            .values(code).order_by()
            .annotate(label=Max(name), label_en=Max(name_en), reported=Sum("reported"), handled=Sum("handled"),
                      handled_on_time=Sum("handled_on_time"), rated=Sum("rated"), satisfied=Sum("satisfied")))
    english = get_language() == "en"
    out = [{
        "code": row[code],
        "label": (row["label_en"] if english and row["label_en"] else row["label"]) or "",
        "reported": row["reported"], "handled": row["handled"],
        "on_time_rate": _share(row["handled_on_time"], row["handled"]),
        "satisfaction_rate": _share(row["satisfied"], row["rated"]),
    } for row in rows]
    out.sort(key=lambda row: (-row["reported"], row["code"]))
    return out

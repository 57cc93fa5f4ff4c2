"""The dashboard's figures over the actor's visible cases for a period: volume per day; by
category, source and grid; lights now; handling time; on-time rate; satisfaction; the most
frequent problems. Each is one grouped query; each row carries the filter that lists its
cases, so every figure drills down to the cases behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import get_language

from civicgrid.platform.accounts.staff.models import StaffProfile

from .lights import with_lights
from .models import OPEN_STATUSES, Case, Source, Status
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


@dataclass
class Figure:
    """One table of the dashboard: rows of (label, value, drill-down filter)."""

    key: str
    rows: list[dict] = field(default_factory=list)


def reported_in(staff: StaffProfile, period: Period) -> QuerySet[Case]:
    low, high = period.bounds
    return cases_for(staff).filter(reported_at__gte=low, reported_at__lt=high).order_by()


def volume_by_day(cases: QuerySet[Case], period: Period) -> list[dict]:
    tz = timezone.get_current_timezone()
    counts = dict(cases.annotate(day=TruncDate("reported_at", tzinfo=tz)).values_list("day")
                  .annotate(n=Count("pk")).values_list("day", "n"))
    return [{"label": day.isoformat(), "value": counts.get(day, 0),
             "filter": {"reported_from": day.isoformat(), "reported_to": day.isoformat()}} for day in period.days]


def by_category(cases: QuerySet[Case]) -> list[dict]:
    """By top-level kind (a leaf counts for its parent)."""
    rows = cases.values("category__parent__code", "category__parent__name", "category__parent__name_en").annotate(
        n=Count("pk")).order_by("-n", "category__parent__code")
    english = get_language() == "en"
    return [{"label": (row["category__parent__name_en"] if english and row["category__parent__name_en"]
                       else row["category__parent__name"]) or "—",
             "value": row["n"],
             "filter": {"kind": row["category__parent__code"]} if row["category__parent__code"] else {}}
            for row in rows]


def top_problems(cases: QuerySet[Case]) -> list[dict]:
    rows = cases.values("category__code", "category__name", "category__name_en").annotate(
        n=Count("pk")).order_by("-n", "category__code")[:TOP]
    return [{"label": _leaf_name(row), "value": row["n"], "filter": {"category": row["category__code"]}}
            for row in rows]


def by_source(cases: QuerySet[Case]) -> list[dict]:
    labels = dict(Source.choices)
    rows = cases.values("source").annotate(n=Count("pk")).order_by("-n")
    return [{"label": str(labels.get(row["source"], row["source"])), "value": row["n"],
             "filter": {"source": row["source"]}} for row in rows]


def by_grid(cases: QuerySet[Case]) -> list[dict]:
    rows = (cases.filter(grid__isnull=False).values("grid__code", "grid__name").annotate(n=Count("pk"))
            .order_by("-n", "grid__code")[:TOP])
    return [{"label": row["grid__name"], "value": row["n"], "filter": {"grid": row["grid__code"]}} for row in rows]


def lights_now(staff: StaffProfile, now: datetime | None = None) -> list[dict]:
    counts = with_lights(cases_for(staff).filter(status__in=OPEN_STATUSES), now).order_by().aggregate(
        red=Count("pk", filter=Q(light="red")), yellow=Count("pk", filter=Q(light="yellow")),
        green=Count("pk", filter=Q(light="green")))
    return [{"label": light, "value": counts[light], "filter": {"status": "open", "light": light}}
            for light in ("red", "yellow", "green")]


def handling(cases: QuerySet[Case]) -> dict:
    """Of the period's cases handled so far: average hours from report to handled, the share
    handled by their deadline, and the residents' satisfaction (average of 1–5, share of 4–5)."""
    handled = cases.filter(handled_at__isnull=False)
    took = ExpressionWrapper(F("handled_at") - F("reported_at"), output_field=DurationField())
    figures = handled.aggregate(
        n=Count("pk"), average=Avg(took),
        on_time=Count("pk", filter=Q(handle_due__isnull=False, handled_at__lte=F("handle_due"))),
        rated=Count("pk", filter=Q(rating__isnull=False)), average_rating=Avg("rating"),
        satisfied=Count("pk", filter=Q(rating__gte=4)), closed=Count("pk", filter=Q(status=Status.CLOSED)))
    n, rated = figures["n"], figures["rated"]
    return {
        "handled": n,
        "average_hours": round(figures["average"].total_seconds() / 3600, 1) if figures["average"] else None,
        "on_time_rate": round(100 * figures["on_time"] / n, 1) if n else None,
        "rated": rated,
        "average_rating": round(float(figures["average_rating"]), 2) if figures["average_rating"] is not None else None,
        "satisfaction_rate": round(100 * figures["satisfied"] / rated, 1) if rated else None,
        "closed": figures["closed"],
    }


def dashboard(staff: StaffProfile, period: Period, now: datetime | None = None) -> dict:
    cases = reported_in(staff, period)
    volume = volume_by_day(cases, period)
    return {
        "total": sum(day["value"] for day in volume),  # no query of its own
        "volume": volume,
        "by_category": by_category(cases),
        "by_source": by_source(cases),
        "by_grid": by_grid(cases),
        "top_problems": top_problems(cases),
        "lights": lights_now(staff, now),
        "handling": handling(cases),
    }


def _leaf_name(row: dict) -> str:
    return row["category__name_en"] if get_language() == "en" and row["category__name_en"] else row["category__name"]

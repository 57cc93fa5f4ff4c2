"""Assessment (考核): scores per department, township and grid worker over a period.

How a score is made
===================

Period
    Two dates, start and end: from 00:00 on the start day up to (not including)
    00:00 on the end day, Asia/Shanghai time. The console and the API default to
    the current month. What falls in a period depends on the measure:

    - acceptance and reports: the time the case was reported (a case is judged on
      its acceptance in the period it came in);
    - handling and satisfaction: the time it was handled; a case still being
      handled counts as late in the period its handling deadline passed in;
    - reopen rate: the time of each closure on the case's timeline;
    - cards: the time the supervision order was issued; overdue facts: the time
      the periodic sweep recorded them.

Measures (each is turned into a figure from 0 to 100, higher is better)
    on_time_acceptance  accepted (or dispatched straight away) no later than the
                        acceptance deadline. Counted: cases reported in the period
                        that were accepted, and cases still not accepted after
                        their deadline (late). Rejected cases, duplicates merged
                        into another case and cases sent to another county are
                        left out; cases still inside their deadline wait.
    on_time_handling    handled no later than the handling deadline as it stood
                        when handled: a granted extension moves the deadline, so
                        handling within it is on time. Counted: cases handled in
                        the period, and cases still being handled whose deadline
                        passed in the period (late). A reopened case leaves this
                        measure until it is handled again.
    satisfaction        the mean rating (1-5) of the cases handled in the period
                        that have one; 5 is 100.
    reopen_rate         the share of the period's closures that were reopened;
                        the figure is 100 minus the rate.
    reports             grid workers: cases they reported; full marks at
                        ``report_target`` reports per 30 days of the period
                        (pro rata), never above 100. Always judged: reporting
                        is the job, so a period without reports scores 0.
    accepted_share      grid workers: of their reports that got an acceptance
                        decision, the share accepted (not rejected, not merged
                        as a duplicate).

Penalties (points taken off the score)
    yellow_cards, red_cards   per supervision card (督办 with a yellow or red card);
    overdue                   per handling-overdue fact the sweep recorded while
                              the department held the case.

Who answers for which case
    A department answers for the cases it held: the one named by the latest
    dispatch or transfer on the case's timeline before the fact (for a handled
    case that is the department on the case); a card counts against the
    department holding the case when it was issued. A township answers for every
    case located in it (the case's grid lies under the township). A grid worker
    answers for the cases they reported.

Score
    score = Σ weight × figure / Σ weight, over the measures with at least one case
    (a measure with nothing to judge neither helps nor hurts), minus the
    penalties, never below 0, rounded to two decimals. With no measure to judge
    there is no score. Weights: ``DEFAULT_WEIGHTS``, overridden per county by
    ``AssessmentWeight`` rows (set through ``assessment_actions.set_weights``).

Every measure carries the cases behind it (id, number, and whether each counted
in favour, or its rating), so each point can be traced to its cases.

Each measure is one aggregate query per period for all the units at once
(grouped in SQL, case lists gathered with ``array_agg``); nothing loops over
cases in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from django.contrib.postgres.aggregates import ArrayAgg
from django.core.exceptions import ValidationError
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models import Case as Choose
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, JSONObject
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.org.models import Department, OrgUnit
from civicgrid.platform.org.selectors import TownshipCode

from .models import AssessmentWeight, Case, CaseEvent, Status, Supervision
from .selectors import TENANT_WIDE

ZONE = ZoneInfo("Asia/Shanghai")
MAX_PERIOD_DAYS = 366

DEPARTMENTS, TOWNSHIPS, GRID_WORKERS = "departments", "townships", "grid_workers"
KINDS = (DEPARTMENTS, TOWNSHIPS, GRID_WORKERS)

# Scoring measures: a weight; penalties: points per item; report_target: reports per 30 days for full marks.
DEFAULT_WEIGHTS: dict[str, Decimal] = {
    "on_time_acceptance": Decimal("20"),
    "on_time_handling": Decimal("40"),
    "satisfaction": Decimal("25"),
    "reopen_rate": Decimal("15"),
    "reports": Decimal("30"),
    "accepted_share": Decimal("40"),
    "yellow_cards": Decimal("2"),
    "red_cards": Decimal("5"),
    "overdue": Decimal("1"),
    "report_target": Decimal("20"),
}
PENALTIES = ("yellow_cards", "red_cards", "overdue")
MEASURES = {
    DEPARTMENTS: ("on_time_handling", "satisfaction", "reopen_rate", "yellow_cards", "red_cards", "overdue"),
    TOWNSHIPS: ("on_time_acceptance", "on_time_handling", "satisfaction", "reopen_rate", "yellow_cards",
                "red_cards"),
    GRID_WORKERS: ("reports", "accepted_share", "on_time_acceptance"),
}
LABELS = {
    "on_time_acceptance": gettext_lazy("On-time acceptance"),
    "on_time_handling": gettext_lazy("On-time handling"),
    "satisfaction": gettext_lazy("Satisfaction"),
    "reopen_rate": gettext_lazy("Reopen rate"),
    "reports": pgettext_lazy("assessment figure", "Reports"),  # a context: Wagtail's menu says "Reports" too
    "accepted_share": gettext_lazy("Reports accepted"),
    "yellow_cards": gettext_lazy("Yellow cards"),
    "red_cards": gettext_lazy("Red cards"),
    "overdue": gettext_lazy("Overdue facts"),
    "report_target": gettext_lazy("Reports for full marks per 30 days"),
}
# Rates are shown in per cent, satisfaction as the mean rating, the rest as counts.
RATES = ("on_time_acceptance", "on_time_handling", "reopen_rate", "accepted_share")

NOT_JUDGED_FOR_ACCEPTANCE = (Status.REJECTED, Status.MERGED, Status.TRANSFERRED)
BEING_HANDLED = (Status.DISPATCHED, Status.IN_PROGRESS)


# --- the period ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # exclusive

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=ZONE)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, time.min, tzinfo=ZONE)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @classmethod
    def this_month(cls, now: datetime | None = None) -> Period:
        today = (now or timezone.now()).astimezone(ZONE).date()
        return cls(today.replace(day=1), _next_month(today))

    @classmethod
    def parse(cls, start: str | None, end: str | None, *, now: datetime | None = None) -> Period:
        """From ``YYYY-MM-DD`` strings; a missing start is this month's first day, a
        missing end the first day of the month after the start."""
        errors = {}
        first = _date(start, "start", errors) if start else cls.this_month(now).start
        last = _date(end, "end", errors) if end else None
        if errors:
            raise ValidationError(errors)
        last = last or _next_month(first)
        if last <= first:
            raise ValidationError({"end": _("The end of the period must come after its start.")})
        if (last - first).days > MAX_PERIOD_DAYS:
            raise ValidationError({"end": _("A period is at most one year long.")})
        return cls(first, last)


def _date(text: str, name: str, errors: dict) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        errors[name] = _("Give the date as YYYY-MM-DD.")
        return None


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


# --- weights ----------------------------------------------------------------------------


def current_weights() -> dict[str, Decimal]:
    """The defaults, overridden by this county's AssessmentWeight rows."""
    weights = dict(DEFAULT_WEIGHTS)
    weights.update(AssessmentWeight.objects.filter(metric__in=DEFAULT_WEIGHTS).values_list("metric", "weight"))
    return weights


# --- results ------------------------------------------------------------------------------


@dataclass
class Measure:
    metric: str
    count: int  # cases (or closures, cards, facts) behind the measure
    hits: int  # how many counted in favour; for satisfaction the sum of the ratings
    figure: Fraction | None  # 0-100, what the weight multiplies; None for penalties and when nothing to judge
    value: Fraction | None  # per cent for rates, mean rating for satisfaction, count otherwise
    weight: Decimal
    cases: list[dict]  # {"id", "number", "ok", "rating"}

    @property
    def label(self) -> str:
        return str(LABELS[self.metric])

    @property
    def is_penalty(self) -> bool:
        return self.metric in PENALTIES

    @property
    def points(self) -> Fraction:
        return Fraction(self.count) * Fraction(self.weight) if self.is_penalty else Fraction(0)

    def as_dict(self) -> dict:
        return {
            "metric": self.metric, "label": self.label, "value": two_places(self.value),
            "numerator": self.hits if self.metric != "reopen_rate" else self.count - self.hits,
            "denominator": self.count, "figure": two_places(self.figure), "weight": float(self.weight),
            "points": two_places(self.points) if self.is_penalty else None, "cases": self.cases,
        }


@dataclass
class Row:
    kind: str
    key: str  # department or township code, grid worker's username
    name: str
    measures: dict[str, Measure]
    base: Fraction | None
    penalty: Fraction
    score: Fraction | None
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "key": self.key, "name": self.name, **self.extra, "score": two_places(self.score), "base": two_places(self.base),
            "penalty": two_places(self.penalty), "measures": {k: m.as_dict() for k, m in self.measures.items()},
        }


def two_places(value: Fraction | None) -> float | None:
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


# --- who sees what ------------------------------------------------------------------------


def visible_units(staff: StaffProfile) -> dict[str, QuerySet]:
    """The units of each kind this staff member may see scores of; a kind left out is not theirs."""
    departments = Department.objects.filter(is_active=True).select_related("township")
    townships = OrgUnit.objects.filter(level=OrgUnit.Level.TOWNSHIP)
    workers = StaffProfile.objects.filter(role=StaffRole.GRID_WORKER, is_active=True).select_related(
        "user", "scope_org_unit")
    role = staff.role
    if role in TENANT_WIDE:
        return {DEPARTMENTS: departments, TOWNSHIPS: townships, GRID_WORKERS: workers}
    if role == StaffRole.TOWNSHIP_OPERATOR and staff.scope_org_unit_id:
        township = staff.scope_org_unit.path.split("/")[0]
        path = f"{township}/"
        return {DEPARTMENTS: departments.filter(township__code=township),
                TOWNSHIPS: townships.filter(code=township),
                GRID_WORKERS: workers.filter(scope_org_unit__path__startswith=path)}
    if role == StaffRole.DEPARTMENT_HANDLER and staff.scope_department_id:
        return {DEPARTMENTS: departments.filter(pk=staff.scope_department_id)}
    if role == StaffRole.GRID_WORKER:
        return {GRID_WORKERS: workers.filter(pk=staff.pk)}
    return {}


def assess(staff: StaffProfile, kind: str, period: Period, *, key: str | None = None,
           weights: dict[str, Decimal] | None = None, now: datetime | None = None,
           with_cases: bool = True) -> list[Row]:
    """The rows of ``kind`` the staff member may see (one if ``key`` names it); 404 if the kind is not theirs."""
    units = visible_units(staff).get(kind)
    if units is None:
        raise Http404
    if key is not None:
        units = units.filter(user__username=key) if kind == GRID_WORKERS else units.filter(code=key)
    scorer = {DEPARTMENTS: score_departments, TOWNSHIPS: score_townships, GRID_WORKERS: score_grid_workers}[kind]
    return scorer(units, period, weights=weights or current_weights(), now=now or timezone.now(),
                  with_cases=with_cases)


# --- scoring, one kind of unit at a time --------------------------------------------------


def score_departments(departments: QuerySet[Department], period: Period, *, weights: dict[str, Decimal],
                      now: datetime, with_cases: bool = True) -> list[Row]:
    departments = list(departments)
    keys = [d.pk for d in departments]
    on_case, holder = F("department_id"), _holder()
    tallies = {
        "on_time_handling": _tally(_handling(period, now), on_case, keys, with_cases),
        "satisfaction": _tally(_rated(period), on_case, keys, with_cases),
        "reopen_rate": _tally(_closures(period), holder, keys, with_cases),
        "yellow_cards": _tally(_cards(period, Supervision.Card.YELLOW), on_case, keys, with_cases),
        "red_cards": _tally(_cards(period, Supervision.Card.RED), on_case, keys, with_cases),
        "overdue": _tally(_overdue_handling(period), holder, keys, with_cases),
    }
    return [_row(DEPARTMENTS, d.pk, d.code, d.name, tallies, weights, period) for d in departments]


def score_townships(townships: QuerySet[OrgUnit], period: Period, *, weights: dict[str, Decimal],
                    now: datetime, with_cases: bool = True) -> list[Row]:
    townships = list(townships)
    keys = [t.code for t in townships]
    on_case, on_event = TownshipCode(F("org_path")), TownshipCode(F("case__org_path"))
    tallies = {
        "on_time_acceptance": _tally(_acceptance(period, now), on_case, keys, with_cases),
        "on_time_handling": _tally(_handling(period, now), on_case, keys, with_cases),
        "satisfaction": _tally(_rated(period), on_case, keys, with_cases),
        "reopen_rate": _tally(_closures(period), on_event, keys, with_cases),
        "yellow_cards": _tally(_cards(period, Supervision.Card.YELLOW), on_event, keys, with_cases),
        "red_cards": _tally(_cards(period, Supervision.Card.RED), on_event, keys, with_cases),
    }
    return [_row(TOWNSHIPS, t.code, t.code, t.name, tallies, weights, period) for t in townships]


def score_grid_workers(workers: QuerySet[StaffProfile], period: Period, *, weights: dict[str, Decimal],
                       now: datetime, with_cases: bool = True) -> list[Row]:
    workers = sorted(workers, key=lambda w: (w.scope_org_unit.path if w.scope_org_unit else "", w.user.username))
    keys = [w.user_id for w in workers]
    by_reporter = F("reporter_id")
    tallies = {
        "reports": _tally(_reports(period), by_reporter, keys, with_cases),
        "accepted_share": _tally(_decided_reports(period), by_reporter, keys, with_cases),
        "on_time_acceptance": _tally(_acceptance(period, now), by_reporter, keys, with_cases),
    }
    return [_row(GRID_WORKERS, w.user_id, w.user.username, str(w.user), tallies, weights, period,
                 extra={"grid": w.scope_org_unit.code if w.scope_org_unit else None}) for w in workers]


def _row(kind, group, key, name, tallies, weights, period, extra=None) -> Row:
    measures = {metric: _measure(metric, by_group.get(group, _Tally()), weights, period)
                for metric, by_group in tallies.items()}
    total = weighted = Fraction(0)
    for measure in measures.values():
        if measure.figure is not None and measure.weight > 0:
            weighted += Fraction(measure.weight) * measure.figure
            total += Fraction(measure.weight)
    penalty = sum((m.points for m in measures.values()), Fraction(0))
    base = weighted / total if total else None
    score = max(Fraction(0), base - penalty) if base is not None else None
    return Row(kind, key, name, measures, base, penalty, score, extra or {})


def _measure(metric: str, tally: _Tally, weights: dict[str, Decimal], period: Period) -> Measure:
    count, hits = tally.count, tally.hits
    figure = value = None
    if metric in PENALTIES:
        value = Fraction(count)
    elif metric == "reports":
        target = Fraction(weights["report_target"]) * period.days / 30
        value = Fraction(count)
        figure = min(Fraction(100), 100 * value / target) if target > 0 else None
    elif count:
        share = Fraction(hits, count)
        if metric == "satisfaction":
            value, figure = share, share * 20
        elif metric == "reopen_rate":  # hits are the closures that stayed closed
            value, figure = (1 - share) * 100, share * 100
        else:
            value = figure = share * 100
    return Measure(metric, count, hits, figure, value, weights[metric], tally.cases)


# --- the cohorts behind each measure ------------------------------------------------------


@dataclass
class _Tally:
    count: int = 0
    hits: int = 0
    cases: list = field(default_factory=list)


@dataclass
class _Cohort:
    rows: QuerySet
    hit: object = None  # a boolean expression: counted in favour
    rating: bool = False  # hits are the sum of ratings
    case_id: str = "pk"
    number: str = "number"



def _holder() -> Subquery:
    """For a timeline entry: the department named by the case's latest dispatch or transfer before it."""
    latest = (CaseEvent.objects.filter(case_id=OuterRef("case_id"), action__in=("dispatch", "transfer"),
                                       pk__lt=OuterRef("pk"))
              .order_by("-pk").annotate(held_by=Cast(KT("data__department"), IntegerField())).values("held_by")[:1])
    return Subquery(latest, output_field=IntegerField())


def _tally(cohort: _Cohort, group, keys: list, with_cases: bool) -> dict[object, _Tally]:
    """One query: per unit, how many rows, how many in favour (or the sum of ratings), and which cases."""
    rows = cohort.rows.annotate(assessed_unit=group).filter(assessed_unit__in=keys).order_by()
    aggregates = {"total": Count("pk")}
    ref = {"id": F(cohort.case_id), "number": F(cohort.number), "ok": Value(None, BooleanField()),
           "rating": Value(None, IntegerField())}
    if cohort.hit is not None:
        rows = rows.annotate(assessed_hit=cohort.hit)
        aggregates["hits"] = Count("pk", filter=Q(assessed_hit=True))
        ref["ok"] = F("assessed_hit")
    elif cohort.rating:
        aggregates["hits"] = Sum("rating")
        ref["rating"] = F("rating")
    if with_cases:
        aggregates["cases"] = ArrayAgg(JSONObject(**ref), order_by=(F(cohort.number), F("pk")))
    return {row["assessed_unit"]: _Tally(row["total"], row.get("hits") or 0, row.get("cases") or [])
            for row in rows.values("assessed_unit").annotate(**aggregates)}


def _between(name: str, period: Period, until: datetime | None = None) -> Q:
    end = min(period.end_at, until) if until else period.end_at
    return Q(**{f"{name}__gte": period.start_at, f"{name}__lt": end})


def _yes(condition: Q):
    return Choose(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def _acceptance(period: Period, now: datetime) -> _Cohort:
    rows = (Case.objects.filter(_between("reported_at", period))
            .exclude(status__in=NOT_JUDGED_FOR_ACCEPTANCE)
            .filter(Q(accepted_at__isnull=False) | Q(accept_due__lt=now)))
    return _Cohort(rows, hit=_yes(Q(accepted_at__lte=F("accept_due"))))


def _handling(period: Period, now: datetime) -> _Cohort:
    still_late = Q(handled_at__isnull=True, status__in=BEING_HANDLED) & _between("handle_due", period, until=now)
    rows = Case.objects.filter(_between("handled_at", period) | still_late)
    return _Cohort(rows, hit=_yes(Q(handled_at__lte=F("handle_due"))))


def _rated(period: Period) -> _Cohort:
    return _Cohort(Case.objects.filter(_between("handled_at", period), rating__isnull=False), rating=True)


def _closures(period: Period) -> _Cohort:
    # A closed case only leaves CLOSED by being reopened, so any later reopen undoes this closure.
    reopened = CaseEvent.objects.filter(case_id=OuterRef("case_id"), action="reopen", pk__gt=OuterRef("pk"))
    rows = (CaseEvent.objects.filter(_between("created_at", period), action="close")
            .exclude(from_status=Status.MERGED))  # duplicates close with their original
    return _Cohort(rows, hit=~Exists(reopened), case_id="case_id", number="case__number")


def _cards(period: Period, card: str) -> _Cohort:
    rows = Supervision.objects.filter(_between("issued_at", period), card=card)
    return _Cohort(rows, case_id="case_id", number="case__number")


def _overdue_handling(period: Period) -> _Cohort:
    rows = CaseEvent.objects.filter(_between("created_at", period), action="overdue", data__phase="handle")
    return _Cohort(rows, case_id="case_id", number="case__number")


def _reports(period: Period) -> _Cohort:
    return _Cohort(Case.objects.filter(_between("reported_at", period)))


def _decided_reports(period: Period) -> _Cohort:
    refused = Q(status__in=(Status.REJECTED, Status.MERGED))
    rows = Case.objects.filter(_between("reported_at", period)).filter(Q(accepted_at__isnull=False) | refused)
    return _Cohort(rows, hit=_yes(Q(accepted_at__isnull=False) & ~refused))

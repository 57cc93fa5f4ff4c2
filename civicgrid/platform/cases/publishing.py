"""The figures a tenant publishes to the province about one day (read from this schema's
cases; ``province.publishing`` writes them to ``public``).

One row per leaf category and township (the first step of a case's org path; "" for cases
without a grid), counts and sums only: never a person, a phone, an address, a title or a
tracking number. Days are the tenant's local days. Each measure belongs to the day its
fact happened on, so a past day's figures stay put once the day is over:

    reported           cases reported that day
    accepted           accepted that day; accepted_on_time: no later than ``accept_due``
    handled            handled that day; handled_on_time: no later than ``handle_due``
    closed             closed that day (and closed still)
    rated, rating_sum, satisfied
                       ratings given that day (the timeline's ``rate`` events, so a rating
                       later cleared by a reopening still counts where it was given): how
                       many, their sum, how many were 4 or 5
    overdue_open       open at the end of the day (for today: now) and past the deadline of
                       the clock then running, the case's light being red at that moment
                       (``lights``' rule, read from the stored moments; a deadline counts as
                       it stands now, after any extension)

Three grouped queries over the day's cases and the rating events, one for the overdue
snapshot, one each for the category and township names.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db.models import Count, F, IntegerField, Q, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.org.selectors import TownshipCode

from .models import Case, CaseEvent, Category, Status

MEASURES = ("reported", "accepted", "accepted_on_time", "handled", "handled_on_time", "closed",
            "rated", "rating_sum", "satisfied", "overdue_open")
SATISFIED_FROM = 4


def day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    low = timezone.make_aware(datetime.combine(day, datetime.min.time()), tz)
    return low, timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()), tz)


def overdue_at(moment: datetime) -> Q:
    """Cases open at ``moment`` whose running clock was past its deadline then.

    Open: reported by then, not yet handled, closed, rejected or sent away (each sets its
    moment), and not a duplicate following another case. The handling clock runs once the
    case has a handling deadline and was dispatched by then; before that, the accept clock,
    judged at the acceptance if that came earlier (accepted late stays red)."""
    still_open = (Q(reported_at__lte=moment) & (Q(handled_at__isnull=True) | Q(handled_at__gt=moment))
                  & (Q(closed_at__isnull=True) | Q(closed_at__gt=moment)) & ~Q(status=Status.MERGED))
    on_handle_clock = Q(handle_due__isnull=False, dispatched_at__lte=moment)
    handle_late = on_handle_clock & Q(handle_due__lt=moment)
    accept_late = ~on_handle_clock & (
        Q(accepted_at__lte=moment, accepted_at__gt=F("accept_due"))
        | ((Q(accepted_at__isnull=True) | Q(accepted_at__gt=moment)) & Q(accept_due__lt=moment)))
    return still_open & (handle_late | accept_late)


def daily_aggregates(day: date, *, now: datetime | None = None) -> list[dict]:
    """This tenant's rows for ``day``: dicts with ``category_code``, ``category_name``,
    ``category_name_en``, ``kind_code``, ``kind_name``, ``kind_name_en``, ``org_unit_code``,
    ``org_unit_name`` and every measure in ``MEASURES``; only combinations with a figure."""
    now = now or timezone.now()
    low, high = day_bounds(day)
    snapshot = min(high, now)
    rows: dict[tuple[int, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))

    def within(field: str) -> Q:
        return Q(**{f"{field}__gte": low, f"{field}__lt": high})

    facts = (Case.objects.filter(within("reported_at") | within("accepted_at") | within("handled_at")
                                 | within("closed_at"))
             .annotate(area=TownshipCode("org_path")).values("category_id", "area").order_by()
             .annotate(reported=Count("pk", filter=within("reported_at")),
                       accepted=Count("pk", filter=within("accepted_at")),
                       accepted_on_time=Count("pk", filter=within("accepted_at") & Q(accepted_at__lte=F("accept_due"))),
                       handled=Count("pk", filter=within("handled_at")),
                       handled_on_time=Count("pk", filter=within("handled_at") & Q(handle_due__isnull=False,
                                                                                    handled_at__lte=F("handle_due"))),
                       closed=Count("pk", filter=within("closed_at") & Q(status=Status.CLOSED))))
    for row in facts:
        rows[(row["category_id"], row["area"])].update(
            {key: row[key] for key in ("reported", "accepted", "accepted_on_time", "handled", "handled_on_time",
                                       "closed")})

    rating = Cast(KT("data__rating"), IntegerField())
    ratings = (CaseEvent.objects.filter(action="rate", created_at__gte=low, created_at__lt=high)
               .annotate(category_id=F("case__category_id"), area=TownshipCode("case__org_path"), value=rating)
               .values("category_id", "area").order_by()
               .annotate(rated=Count("pk"), rating_sum=Sum("value"),
                         satisfied=Count("pk", filter=Q(value__gte=SATISFIED_FROM))))
    for row in ratings:
        rows[(row["category_id"], row["area"])].update(
            rated=row["rated"], rating_sum=row["rating_sum"] or 0, satisfied=row["satisfied"])

    overdue = (Case.objects.filter(overdue_at(snapshot)).annotate(area=TownshipCode("org_path"))
               .values("category_id", "area").order_by().annotate(n=Count("pk")))
    for row in overdue:
        rows[(row["category_id"], row["area"])]["overdue_open"] = row["n"]

    return _named(rows)


def _named(rows: dict[tuple[int, str], dict[str, int]]) -> list[dict]:
    categories = {c.pk: c for c in Category.objects.select_related("parent").filter(
        pk__in={category_id for category_id, _area in rows})}
    townships = dict(OrgUnit.objects.filter(code__in={area for _category, area in rows if area})
                     .values_list("code", "name"))
    named = []
    for (category_id, area), figures in sorted(rows.items(), key=lambda item: (categories[item[0][0]].code,
                                                                              item[0][1])):
        if not any(figures.values()):
            continue
        category = categories[category_id]
        kind = category.parent
        named.append({
            "category_code": category.code, "category_name": category.name, "category_name_en": category.name_en,
            "kind_code": kind.code if kind else "", "kind_name": kind.name if kind else "",
            "kind_name_en": kind.name_en if kind else "",
            "org_unit_code": area, "org_unit_name": townships.get(area, ""),
            **figures,
        })
    return named

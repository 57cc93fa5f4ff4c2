"""Early warning (预警): a category in an area whose count today rises above mean + 3σ of its
previous 28 days is flagged, with the cases behind it, and the command centre is told.

The area is the township (the first step of a case's org path); cases without a grid count
for the whole county. A floor keeps a quiet category from being flagged for its first case
(mean 0 and σ 0 would make any single report a "spike").
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.audit.actions import record
from civicgrid.platform.notifications.models import Notification
from civicgrid.platform.notifications.outbox import emit
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.org.selectors import TownshipCode

from .models import Case, Category, EarlyWarning

HISTORY_DAYS = 28
SIGMAS = 3
MIN_SPIKE = 3  # at least this many cases in the day, whatever the history
TELLS = (StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR)


@dataclass(frozen=True)
class Spike:
    day: date
    category_id: int
    area_code: str
    count: int
    mean: float
    sigma: float


def daily_counts(start: date, end: date) -> dict[tuple[int, str], dict[date, int]]:
    """{(category id, township code): {day: cases reported that day}} for start ≤ day ≤ end,
    days in the tenant's time zone."""
    tz = timezone.get_current_timezone()
    low = timezone.make_aware(datetime.combine(start, datetime.min.time()), tz)
    high = timezone.make_aware(datetime.combine(end + timedelta(days=1), datetime.min.time()), tz)
    rows = (Case.objects.filter(reported_at__gte=low, reported_at__lt=high)
            .annotate(day=TruncDate("reported_at", tzinfo=tz), area=TownshipCode("org_path"))
            .values("day", "category_id", "area").annotate(n=Count("pk")).order_by())
    counts: dict[tuple[int, str], dict[date, int]] = defaultdict(dict)
    for row in rows:
        counts[(row["category_id"], row["area"] or "")][row["day"]] = row["n"]
    return counts


def find_spikes(day: date) -> list[Spike]:
    """The (category, area) pairs above mean + 3σ on ``day``, against the 28 days before it."""
    first = day - timedelta(days=HISTORY_DAYS)
    spikes = []
    for (category_id, area), by_day in daily_counts(first, day).items():
        count = by_day.get(day, 0)
        if count < MIN_SPIKE:
            continue
        history = [by_day.get(first + timedelta(days=offset), 0) for offset in range(HISTORY_DAYS)]
        mean = sum(history) / HISTORY_DAYS
        sigma = math.sqrt(sum((n - mean) ** 2 for n in history) / HISTORY_DAYS)
        if count > mean + SIGMAS * sigma:
            spikes.append(Spike(day, category_id, area, count, round(mean, 3), round(sigma, 3)))
    return spikes


def cases_behind(warning: EarlyWarning) -> QuerySet[Case]:
    """The cases the flag counted: that category, that area, reported that day."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(warning.day, datetime.min.time()), tz)
    cases = Case.objects.select_related("category", "grid", "department").filter(
        category_id=warning.category_id, reported_at__gte=start, reported_at__lt=start + timedelta(days=1))
    if warning.area_code:
        return cases.filter(org_path__startswith=f"{warning.area_code}/")
    return cases.filter(org_path="")


TITLE = gettext_noop("Early warning: %(count)d × %(category)s in %(area)s today (usually %(mean).1f)")


def raise_early_warnings(*, day: date | None = None) -> list[EarlyWarning]:
    """Flags each spike of ``day`` (today by default) once, and tells the command centre.
    Safe to run again, and from two workers at once: the unique constraint decides."""
    day = day or timezone.localdate()
    raised = []
    for spike in find_spikes(day):
        try:
            with transaction.atomic():
                warning = EarlyWarning.objects.create(
                    day=spike.day, category_id=spike.category_id, area_code=spike.area_code,
                    area=OrgUnit.objects.filter(code=spike.area_code).first() if spike.area_code else None,
                    count=spike.count, mean=spike.mean, sigma=spike.sigma)
                _tell_command_centre(warning)
                record(action="case.early_warning", target=warning, count=spike.count, mean=spike.mean,
                       sigma=spike.sigma, day=str(spike.day), category=warning.category.code, area=spike.area_code)
        except IntegrityError:
            continue  # already flagged today
        raised.append(warning)
    return raised


def _tell_command_centre(warning: EarlyWarning) -> None:
    category = Category.objects.get(pk=warning.category_id)
    recipients = StaffProfile.objects.filter(role__in=TELLS, is_active=True).values_list("user_id", flat=True)
    # Stored in the installation's language: a notification's title is kept as text.
    with translation.override(settings.LANGUAGE_CODE):
        title = gettext(TITLE) % {"count": warning.count, "category": category.name,
                                  "area": warning.area.name if warning.area else gettext("the whole county"),
                                  "mean": warning.mean}
    rows = Notification.objects.bulk_create([
        Notification(recipient_id=user_id, topic="case.early_warning", title=title[:200],
                     url=f"/dashboard/warnings/{warning.pk}/") for user_id in set(recipients)])
    emit("warning.raised", warning_id=warning.pk, schema=connection.schema_name,
         notifications=[row.pk for row in rows])

"""Deadlines on the tenant's working calendar: the national calendar with this
county's overrides on top. A calendar is built once per set of overrides and
reused (its per-day answers are cached inside it)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from .calendar import WorkingCalendar
from .models import CalendarOverride, Category, Urgency

# Urgent reports run on shorter clocks than their category's usual ones.
URGENCY_FACTOR = {Urgency.NORMAL: Decimal("1"), Urgency.URGENT: Decimal("0.5"), Urgency.CRITICAL: Decimal("0.25")}


def tenant_calendar() -> WorkingCalendar:
    overrides = frozenset(CalendarOverride.objects.values_list("day", "is_working"))
    return _calendar(overrides)


@lru_cache(maxsize=64)
def _calendar(overrides: frozenset) -> WorkingCalendar:
    return WorkingCalendar(overrides=dict(overrides))


YELLOW_SHARE = Decimal("0.8")  # the light turns yellow when this share of the working time is used


def accept_due(category: Category, urgency: str, reported_at: datetime, calendar: WorkingCalendar) -> datetime:
    return calendar.add_working_hours(reported_at, category.accept_hours * URGENCY_FACTOR[urgency])


def handle_due(category: Category, urgency: str, dispatched_at: datetime, calendar: WorkingCalendar,
               extra_hours: Decimal = Decimal(0)) -> datetime:
    return calendar.add_working_hours(dispatched_at, category.handle_hours * URGENCY_FACTOR[urgency] + extra_hours)


def warn_at(category_hours: Decimal, urgency: str, start: datetime, calendar: WorkingCalendar,
            extra_hours: Decimal = Decimal(0)) -> datetime:
    """When the light turns yellow: YELLOW_SHARE of the working time after ``start``."""
    return calendar.add_working_hours(start, (category_hours * URGENCY_FACTOR[urgency] + extra_hours) * YELLOW_SHARE)

"""Deadlines on the tenant's working calendar: the national calendar with this
county's overrides on top. A calendar is built once per set of overrides and
reused (its per-day answers are cached inside it)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from django.db import connection

from .calendar import WorkingCalendar
from .models import CalendarOverride, Category, Urgency

# A report marked more urgent than its category usually is runs on a shorter clock.
URGENCY_FACTOR = {Urgency.NORMAL: Decimal("1"), Urgency.URGENT: Decimal("0.5"), Urgency.CRITICAL: Decimal("0.25")}
YELLOW_SHARE = Decimal("0.8")  # the light turns yellow when this share of the time is used


OVERRIDES_FRESH_SECONDS = 60  # a county's calendar changes a few times a year


def tenant_calendar() -> WorkingCalendar:
    """This county's calendar. Its overrides are read at most once a minute per
    process: every report sets a deadline, and a query each time adds up."""
    schema, now = connection.schema_name, time.monotonic()
    held = _overrides.get(schema)
    if held is None or now - held[0] > OVERRIDES_FRESH_SECONDS:
        held = _overrides[schema] = (now, frozenset(CalendarOverride.objects.values_list("day", "is_working")))
    return _calendar(held[1])


def forget_overrides() -> None:
    """After a change to the overrides, in this process (others follow within a minute)."""
    _overrides.clear()


_overrides: dict[str, tuple[float, frozenset]] = {}


@lru_cache(maxsize=64)
def _calendar(overrides: frozenset) -> WorkingCalendar:
    return WorkingCalendar(overrides=dict(overrides))


def hours_for(category: Category, phase: str, urgency: str) -> Decimal:
    """The category's hours for ``phase`` ("accept" or "handle"), shortened when the
    report is more urgent than the category's usual urgency (its hours already
    allow for that)."""
    hours = category.accept_hours if phase == "accept" else category.handle_hours
    usual = URGENCY_FACTOR.get(category.urgency, Decimal(1))
    this = URGENCY_FACTOR.get(urgency, Decimal(1))
    return hours * this / usual if this < usual else hours


def after(start: datetime, hours: Decimal, urgency: str, calendar: WorkingCalendar) -> datetime:
    """Critical cases (a gas leak on a Friday night) run on the clock, round the
    clock; everything else on the working calendar."""
    if urgency == Urgency.CRITICAL:
        return start + timedelta(hours=float(hours))
    return calendar.add_working_hours(start, hours)


def due(category: Category, phase: str, urgency: str, start: datetime, calendar: WorkingCalendar) -> datetime:
    return after(start, hours_for(category, phase, urgency), urgency, calendar)


def warn_at(category: Category, phase: str, urgency: str, start: datetime, calendar: WorkingCalendar) -> datetime:
    """When the light turns yellow: YELLOW_SHARE of the phase's time after ``start``."""
    return after(start, hours_for(category, phase, urgency) * YELLOW_SHARE, urgency, calendar)

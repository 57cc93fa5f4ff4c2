"""The tenant's working calendar and deadline arithmetic in working hours.

Deadlines count office hours on working days only: the State Council's public holidays and
make-up working days come from ``chinese_calendar``; a county's own overrides (a local
holiday, an extra working Saturday) are laid on top. The package only knows the years it
was released with, and deadlines routinely run past New Year before the next schedule is
published, so an unknown year falls back to Monday–Friday and ``day_source`` says so, for
the console to warn. Overrides still apply there: that is how a province enters next
year's holidays before the package catches up.

Pure Python, no database: the caller loads the overrides and builds one calendar per
tenant (and per sweep: overrides are a snapshot taken at construction). The sweep asks
for 10^5 deadlines and lights at a time, so everything walks whole days, never minutes,
and remembers each day's answer on the instance.

Times are wall-clock times in the calendar's time zone, to the microsecond.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import chinese_calendar
from django.utils.translation import gettext_lazy as _

MICROSECONDS_PER_HOUR = 3_600_000_000
MICROSECONDS_PER_DAY = 24 * MICROSECONDS_PER_HOUR

# A calendar whose overrides rest every day would otherwise walk forever.
LONGEST_WALK_DAYS = 366 * 20


class DaySource(StrEnum):
    """Where a day's working-or-rest answer came from."""

    OFFICIAL = "official"
    WEEKDAY_RULE = "weekday rule"
    OVERRIDE = "override"

    @property
    def label(self):
        return {
            DaySource.OFFICIAL: _("Official holiday schedule"),
            DaySource.WEEKDAY_RULE: _("Assumed Monday to Friday (holidays not yet published)"),
            DaySource.OVERRIDE: _("Local override"),
        }[self]


class Light(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"

    @property
    def label(self):
        return {Light.GREEN: _("Green"), Light.YELLOW: _("Yellow"), Light.RED: _("Red")}[self]


@dataclass(frozen=True)
class WorkingHours:
    """The office day in local time: two periods with a lunch break between."""

    morning: tuple[time, time] = (time(8, 30), time(12, 0))
    afternoon: tuple[time, time] = (time(13, 30), time(17, 30))  # 7.5 working hours a day

    def __post_init__(self):
        (a, b), (c, d) = self.morning, self.afternoon
        if not a < b <= c < d:
            raise ValueError("working periods must be ordered and must not overlap")

    @property
    def periods(self) -> tuple[tuple[time, time], ...]:
        return (self.morning, self.afternoon)

    @property
    def hours_per_day(self) -> Decimal:
        return sum((Decimal(_microseconds_of(b) - _microseconds_of(a)) for a, b in self.periods),
                   Decimal(0)) / MICROSECONDS_PER_HOUR


def _microseconds_of(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _hours_to_microseconds(hours: float | Decimal) -> int:
    # Decimal stays exact; a float goes through its shortest repr so 0.1 h is 360 s, not 359.99….
    amount = hours if isinstance(hours, Decimal) else Decimal(repr(float(hours)))
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"working hours must be a finite amount of zero or more, not {hours!r}")
    return int((amount * MICROSECONDS_PER_HOUR).to_integral_value(ROUND_HALF_EVEN))


class WorkingCalendar:
    def __init__(
        self,
        *,
        overrides: Mapping[date, bool] | None = None,
        hours: WorkingHours | None = None,
        tz: str | tzinfo = "Asia/Shanghai",
    ):
        """``overrides`` maps a day to True (working) or False (rest), whatever the official answer."""
        self.overrides: dict[date, bool] = dict(overrides or {})
        self.hours = hours or WorkingHours()
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self._periods = tuple((_microseconds_of(a), _microseconds_of(b)) for a, b in self.hours.periods)
        self._day_length = sum(b - a for a, b in self._periods)
        self._working_by_ordinal: dict[int, bool] = {}

    # Days ---------------------------------------------------------------------------

    def day_source(self, day: date) -> DaySource:
        if day in self.overrides:
            return DaySource.OVERRIDE
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return DaySource.WEEKDAY_RULE
        return DaySource.OFFICIAL

    def is_working_day(self, day: date) -> bool:
        return self._is_working(day.toordinal())

    def _is_working(self, ordinal: int) -> bool:
        try:
            return self._working_by_ordinal[ordinal]
        except KeyError:
            pass
        day = date.fromordinal(ordinal)
        working = self.overrides.get(day)
        if working is None:
            try:
                working = chinese_calendar.is_workday(day)
            except NotImplementedError:  # a year the package does not know yet
                working = day.weekday() < 5
        self._working_by_ordinal[ordinal] = working
        return working

    # Moments ------------------------------------------------------------------------

    def _split(self, moment: datetime) -> tuple[int, int]:
        """(day ordinal, microseconds since local midnight) of an aware moment."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("the working calendar needs aware datetimes")
        local = moment.astimezone(self.tz)
        return local.toordinal(), _microseconds_of(local.time())

    def _join(self, ordinal: int, offset: int) -> datetime:
        return (datetime.fromordinal(ordinal) + timedelta(microseconds=offset)).replace(tzinfo=self.tz)

    def add_working_hours(self, start: datetime, hours: float | Decimal) -> datetime:
        """The moment ``hours`` of working time after ``start``.

        Time before the next working moment does not count. A deadline that uses up a
        period lands on its end (17:30), not on the next period's start; zero hours gives
        the next working moment.
        """
        remaining = _hours_to_microseconds(hours)
        ordinal, offset = self._split(start)
        for _day in range(LONGEST_WALK_DAYS):
            if self._is_working(ordinal):
                if offset == 0 and remaining > self._day_length:
                    remaining -= self._day_length
                else:
                    for begin, end in self._periods:
                        if offset < end:
                            counted_from = begin if offset < begin else offset
                            available = end - counted_from
                            if remaining <= available:
                                return self._join(ordinal, counted_from + remaining)
                            remaining -= available
            ordinal += 1
            offset = 0
        raise ValueError(f"no working time within {LONGEST_WALK_DAYS} days of {start.isoformat()}")

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself inside working time, else the start of the next working period."""
        return self.add_working_hours(moment, 0)

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours from ``start`` to ``end``; negative when ``end`` comes first."""
        return self._working_microseconds_between(start, end) / MICROSECONDS_PER_HOUR

    def _working_microseconds_between(self, start: datetime, end: datetime) -> int:
        first, last = self._split(start), self._split(end)
        if last < first:
            return -self._working_microseconds_between(end, start)
        (first_day, first_offset), (last_day, last_offset) = first, last
        if first_day == last_day:
            return self._worked_within_day(first_day, first_offset, last_offset)
        total = self._worked_within_day(first_day, first_offset, MICROSECONDS_PER_DAY)
        total += self._worked_within_day(last_day, 0, last_offset)
        for ordinal in range(first_day + 1, last_day):
            if self._is_working(ordinal):
                total += self._day_length
        return total

    def _worked_within_day(self, ordinal: int, since: int, until: int) -> int:
        if not self._is_working(ordinal):
            return 0
        worked = 0
        for begin, end in self._periods:
            overlap = min(end, until) - max(begin, since)
            if overlap > 0:
                worked += overlap
        return worked


def light_for(
    *,
    now: datetime,
    started: datetime,
    due: datetime,
    calendar: WorkingCalendar,
    yellow_share: float = 0.8,
    finished: datetime | None = None,
) -> Light:
    """Red once past due; yellow once ``yellow_share`` of the working time from start to due
    has passed; green before. A finished case keeps the light it had when it finished."""
    if not 0 <= yellow_share <= 1:
        raise ValueError("yellow_share must lie between 0 and 1")
    judged_at = finished if finished is not None else now
    if judged_at > due:
        return Light.RED
    allowed = calendar._working_microseconds_between(started, due)
    used = calendar._working_microseconds_between(started, judged_at)
    # Compared in whole microseconds so a boundary lands on the same side every time.
    if used < allowed * Decimal(repr(float(yellow_share))):
        return Light.GREEN
    return Light.YELLOW

"""Case deadlines: working hours on the calendar, shorter clocks for more urgent
reports, and critical cases on the clock round the clock."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from civicgrid.platform.cases import deadlines
from civicgrid.platform.cases.calendar import WorkingCalendar
from civicgrid.platform.cases.models import Category, Urgency

SHANGHAI = ZoneInfo("Asia/Shanghai")


def category(urgency=Urgency.NORMAL, accept="2", handle="37.5") -> Category:
    return Category(code="X", name="x", accept_hours=Decimal(accept), handle_hours=Decimal(handle), urgency=urgency)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_a_normal_case_waits_for_monday_and_a_critical_one_does_not():
    calendar = WorkingCalendar()
    friday_evening = at(2026, 11, 20, 18, 0)
    gas = category(Urgency.CRITICAL, accept="0.5", handle="4")
    assert deadlines.due(gas, "accept", Urgency.CRITICAL, friday_evening, calendar) == at(2026, 11, 20, 18, 30)
    assert deadlines.due(gas, "handle", Urgency.CRITICAL, friday_evening, calendar) == at(2026, 11, 20, 22, 0)
    dispute = category()
    assert deadlines.due(dispute, "accept", Urgency.NORMAL, friday_evening, calendar) == at(2026, 11, 23, 10, 30)


def test_more_urgent_than_usual_shortens_the_clock_but_the_usual_urgency_does_not():
    assert deadlines.hours_for(category(), "handle", Urgency.URGENT) == Decimal("18.75")
    assert deadlines.hours_for(category(), "handle", Urgency.NORMAL) == Decimal("37.5")
    usually_urgent = category(Urgency.URGENT, handle="8")
    assert deadlines.hours_for(usually_urgent, "handle", Urgency.URGENT) == Decimal("8")
    assert deadlines.hours_for(usually_urgent, "handle", Urgency.NORMAL) == Decimal("8")  # never longer
    assert deadlines.hours_for(usually_urgent, "handle", Urgency.CRITICAL) == Decimal("4")


def test_the_light_turns_yellow_after_four_fifths_of_the_time():
    calendar = WorkingCalendar()
    start = at(2026, 11, 23, 8, 30)  # a Monday morning
    warn = deadlines.warn_at(category(handle="10"), "handle", Urgency.NORMAL, start, calendar)
    assert calendar.working_hours_between(start, warn) == 8.0

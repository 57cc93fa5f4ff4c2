"""Working-hour deadlines on real calendars: the package's 2026 holidays, the weekday rule
for 2027, local overrides, and lights. No database."""

import random
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from civicgrid.platform.cases.calendar import (
    DaySource,
    Light,
    WorkingCalendar,
    WorkingHours,
    light_for,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year, month, day, hour=0, minute=0, second=0, microsecond=0):
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=SHANGHAI)


def days(first, last):
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


# The package's facts, checked rather than assumed ------------------------------------


def test_spring_festival_2026_is_what_the_package_says():
    calendar = WorkingCalendar()
    festival = list(days(date(2026, 2, 15), date(2026, 2, 23)))
    assert all(not chinese_calendar.is_workday(d) for d in festival)
    assert all(not calendar.is_working_day(d) for d in festival)
    for make_up in (date(2026, 2, 14), date(2026, 2, 28)):
        assert make_up.weekday() == 5
        assert chinese_calendar.is_workday(make_up)
        assert calendar.is_working_day(make_up)
        assert calendar.day_source(make_up) == DaySource.OFFICIAL == "official"
    assert calendar.is_working_day(date(2026, 2, 13))
    assert calendar.is_working_day(date(2026, 2, 24))
    assert not calendar.is_working_day(date(2026, 3, 1))  # an ordinary Sunday


def test_a_deadline_reported_before_the_festival_jumps_it():
    calendar = WorkingCalendar()
    reported = at(2026, 2, 13, 15, 0)  # Friday afternoon
    # 2.5 h on Friday, then the make-up Saturday 14th counts: 3.5 h morning + 2 h afternoon.
    assert calendar.add_working_hours(reported, 8) == at(2026, 2, 14, 15, 30)
    # 2.5 h Friday + 7.5 h Saturday, then nothing until Tuesday 24th: 3.5 h + 2.5 h.
    assert calendar.add_working_hours(reported, 16) == at(2026, 2, 24, 16, 0)
    assert calendar.working_hours_between(reported, at(2026, 2, 24, 16, 0)) == 16
    # The whole festival is worth nothing.
    assert calendar.working_hours_between(at(2026, 2, 14, 17, 30), at(2026, 2, 24, 8, 30)) == 0


def test_a_make_up_saturday_counts_as_working():
    calendar = WorkingCalendar()
    assert calendar.add_working_hours(at(2026, 2, 27, 17, 0), 1) == at(2026, 2, 28, 9, 0)
    assert calendar.next_working_moment(at(2026, 2, 28, 7, 0)) == at(2026, 2, 28, 8, 30)
    # The Saturday after is an ordinary rest day: Friday evening runs to Monday.
    assert calendar.add_working_hours(at(2026, 3, 6, 17, 0), 1) == at(2026, 3, 9, 9, 0)


def test_national_day_2026():
    calendar = WorkingCalendar()
    golden_week = list(days(date(2026, 10, 1), date(2026, 10, 7)))
    assert all(not chinese_calendar.is_workday(d) for d in golden_week)
    assert all(not calendar.is_working_day(d) for d in golden_week)
    assert chinese_calendar.is_workday(date(2026, 10, 10))  # the package's make-up Saturday
    assert calendar.is_working_day(date(2026, 10, 10))
    # 1.5 h on 30 September, then 2.5 h on 8 October.
    assert calendar.add_working_hours(at(2026, 9, 30, 16, 0), 4) == at(2026, 10, 8, 11, 0)
    # 7.5 h each on the 8th and 9th, and the make-up Saturday 10th.
    assert calendar.add_working_hours(at(2026, 10, 8, 8, 30), 22.5) == at(2026, 10, 10, 17, 30)
    assert calendar.add_working_hours(at(2026, 10, 8, 8, 30), 23) == at(2026, 10, 12, 9, 0)


# Past the package's last year ----------------------------------------------------------


def test_a_deadline_crossing_into_2027_uses_the_weekday_rule():
    calendar = WorkingCalendar()
    assert calendar.day_source(date(2026, 12, 31)) == DaySource.OFFICIAL
    assert calendar.day_source(date(2027, 1, 1)) == DaySource.WEEKDAY_RULE == "weekday rule"
    assert calendar.day_source(date(2003, 6, 2)) == DaySource.WEEKDAY_RULE
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 1))  # else this test no longer tests the fallback
    assert calendar.is_working_day(date(2027, 1, 1))  # a Friday
    assert not calendar.is_working_day(date(2027, 1, 2))
    assert not calendar.is_working_day(date(2027, 1, 3))
    # 1.5 h on Thursday 31 December, 2.5 h on Friday 1 January.
    assert calendar.add_working_hours(at(2026, 12, 31, 16, 0), 4) == at(2027, 1, 1, 11, 0)


def test_an_override_makes_new_year_2027_a_holiday():
    calendar = WorkingCalendar(overrides={date(2027, 1, 1): False})
    assert calendar.day_source(date(2027, 1, 1)) == DaySource.OVERRIDE == "override"
    assert calendar.day_source(date(2027, 1, 4)) == DaySource.WEEKDAY_RULE
    assert not calendar.is_working_day(date(2027, 1, 1))
    assert calendar.add_working_hours(at(2026, 12, 31, 16, 0), 4) == at(2027, 1, 4, 11, 0)
    assert calendar.working_hours_between(at(2026, 12, 31, 16, 0), at(2027, 1, 4, 11, 0)) == 4


def test_an_override_turns_a_working_day_into_rest_and_back():
    monday, sunday = date(2026, 3, 2), date(2026, 3, 1)
    plain = WorkingCalendar()
    local = WorkingCalendar(overrides={monday: False, sunday: True})
    assert plain.is_working_day(monday) and not plain.is_working_day(sunday)
    assert not local.is_working_day(monday) and local.is_working_day(sunday)
    assert local.day_source(monday) == local.day_source(sunday) == DaySource.OVERRIDE
    assert plain.day_source(monday) == DaySource.OFFICIAL
    friday_evening = at(2026, 2, 27, 17, 0)
    assert plain.add_working_hours(friday_evening, 8.5) == at(2026, 3, 2, 9, 0)  # via make-up Saturday 28th
    assert local.add_working_hours(friday_evening, 8.5) == at(2026, 3, 1, 9, 0)  # the working Sunday
    assert local.add_working_hours(friday_evening, 16) == at(2026, 3, 3, 9, 0)  # Monday rests
    # An override also beats the package's own make-up day.
    no_make_up = WorkingCalendar(overrides={date(2026, 2, 28): False})
    assert no_make_up.add_working_hours(friday_evening, 1) == at(2026, 3, 2, 9, 0)


def test_overrides_are_a_snapshot():
    overrides = {date(2026, 3, 2): False}
    calendar = WorkingCalendar(overrides=overrides)
    overrides[date(2026, 3, 2)] = True
    assert not calendar.is_working_day(date(2026, 3, 2))


# The office day ---------------------------------------------------------------------------


def test_a_start_outside_working_time_counts_from_the_next_working_moment():
    calendar = WorkingCalendar()
    saturday_night = at(2026, 3, 7, 22, 0)
    # Monday's morning holds 3.5 h; the fourth hour is the first half hour after lunch.
    assert calendar.add_working_hours(saturday_night, 3.5) == at(2026, 3, 9, 12, 0)
    assert calendar.add_working_hours(saturday_night, 4) == at(2026, 3, 9, 14, 0)
    assert calendar.add_working_hours(at(2026, 3, 9, 6, 0), 1) == at(2026, 3, 9, 9, 30)  # early morning
    assert calendar.add_working_hours(at(2026, 3, 9, 19, 0), 1) == at(2026, 3, 10, 9, 30)  # evening
    assert calendar.working_hours_between(saturday_night, at(2026, 3, 9, 8, 30)) == 0


def test_the_lunch_break_does_not_count():
    calendar = WorkingCalendar()
    assert calendar.add_working_hours(at(2026, 3, 9, 11, 30), 1) == at(2026, 3, 9, 14, 0)
    assert calendar.add_working_hours(at(2026, 3, 9, 12, 30), 1) == at(2026, 3, 9, 14, 30)
    assert calendar.working_hours_between(at(2026, 3, 9, 11, 0), at(2026, 3, 9, 14, 0)) == 1.5
    assert calendar.working_hours_between(at(2026, 3, 9, 12, 0), at(2026, 3, 9, 13, 30)) == 0


def test_a_deadline_that_uses_up_a_period_lands_on_its_end():
    calendar = WorkingCalendar()
    assert calendar.add_working_hours(at(2026, 3, 9, 8, 30), 3.5) == at(2026, 3, 9, 12, 0)
    assert calendar.add_working_hours(at(2026, 3, 9, 13, 30), 4) == at(2026, 3, 9, 17, 30)
    assert calendar.add_working_hours(at(2026, 3, 9, 15, 0), 2.5) == at(2026, 3, 9, 17, 30)
    assert calendar.add_working_hours(at(2026, 3, 9, 8, 30), 7.5) == at(2026, 3, 9, 17, 30)
    assert calendar.add_working_hours(at(2026, 3, 9, 8, 30), 15) == at(2026, 3, 10, 17, 30)
    assert calendar.add_working_hours(at(2026, 3, 8, 20, 0), 7.5) == at(2026, 3, 9, 17, 30)  # from Sunday
    # A Friday deadline that uses up the day stays on Friday.
    assert calendar.add_working_hours(at(2026, 3, 13, 10, 0), 6) == at(2026, 3, 13, 17, 30)


def test_zero_hours_is_the_next_working_moment():
    calendar = WorkingCalendar()
    for moment, expected in [
        (at(2026, 3, 9, 10, 0), at(2026, 3, 9, 10, 0)),
        (at(2026, 3, 9, 8, 30), at(2026, 3, 9, 8, 30)),
        (at(2026, 3, 9, 12, 0), at(2026, 3, 9, 13, 30)),
        (at(2026, 3, 9, 17, 30), at(2026, 3, 10, 8, 30)),
        (at(2026, 2, 13, 17, 30), at(2026, 2, 14, 8, 30)),  # make-up Saturday
        (at(2026, 2, 14, 17, 30), at(2026, 2, 24, 8, 30)),  # the festival
        (at(2026, 12, 31, 18, 0), at(2027, 1, 1, 8, 30)),  # weekday rule
    ]:
        assert calendar.add_working_hours(moment, 0) == expected
        assert calendar.add_working_hours(moment, Decimal("0")) == expected
        assert calendar.next_working_moment(moment) == expected


def test_fractional_hours():
    calendar = WorkingCalendar()
    assert calendar.add_working_hours(at(2026, 3, 9, 9, 0), 0.5) == at(2026, 3, 9, 9, 30)
    assert calendar.add_working_hours(at(2026, 3, 9, 11, 45), 0.5) == at(2026, 3, 9, 13, 45)
    assert calendar.add_working_hours(at(2026, 3, 9, 11, 45), Decimal("0.5")) == at(2026, 3, 9, 13, 45)
    assert calendar.add_working_hours(at(2026, 3, 9, 9, 0), 0.1) == at(2026, 3, 9, 9, 6)
    assert calendar.add_working_hours(at(2026, 3, 9, 9, 0), Decimal("1.75")) == at(2026, 3, 9, 10, 45)
    assert calendar.add_working_hours(at(2026, 3, 9, 9, 0), 1 / 3) == at(2026, 3, 9, 9, 20)
    assert calendar.working_hours_between(at(2026, 3, 9, 9, 0), at(2026, 3, 9, 9, 30)) == 0.5


def test_time_zones_and_bad_input():
    calendar = WorkingCalendar()
    utc_start = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    due = calendar.add_working_hours(utc_start, 1)
    assert due == at(2026, 3, 9, 10, 0)
    assert due.tzinfo == SHANGHAI and due.utcoffset() == timedelta(hours=8)
    # 23:00 UTC on Sunday is already 07:00 Monday in Shanghai.
    assert calendar.next_working_moment(datetime(2026, 3, 8, 23, 0, tzinfo=UTC)) == at(2026, 3, 9, 8, 30)
    with pytest.raises(ValueError):
        calendar.add_working_hours(datetime(2026, 3, 9, 9, 0), 1)  # naive
    with pytest.raises(ValueError):
        calendar.working_hours_between(datetime(2026, 3, 9, 9, 0), at(2026, 3, 9, 10, 0))
    for bad in (-1, -0.5, Decimal("-0.1"), float("nan"), float("inf")):
        with pytest.raises(ValueError):
            calendar.add_working_hours(at(2026, 3, 9, 9, 0), bad)


def test_other_working_hours():
    calendar = WorkingCalendar(
        hours=WorkingHours(morning=(time(9, 0), time(12, 0)), afternoon=(time(14, 0), time(18, 0)))
    )
    assert calendar.add_working_hours(at(2026, 3, 9, 8, 0), 4) == at(2026, 3, 9, 15, 0)
    assert calendar.add_working_hours(at(2026, 3, 9, 8, 0), 7) == at(2026, 3, 9, 18, 0)
    with pytest.raises(ValueError):
        WorkingHours(morning=(time(9, 0), time(14, 0)), afternoon=(time(13, 0), time(18, 0)))


def test_a_calendar_with_no_working_days_refuses_instead_of_hanging():
    # Every day resting is only reachable with overrides; give more than the 20 years walked.
    rest = {d: False for d in days(date(2026, 3, 9), date(2047, 3, 9))}
    calendar = WorkingCalendar(overrides=rest)
    with pytest.raises(ValueError):
        calendar.add_working_hours(at(2026, 3, 9, 9, 0), 1)


# Consistency, over many starts and amounts ---------------------------------------------------


def sample_starts():
    """Starts every 97 minutes across the spring festival, national day and New Year 2027,
    plus exact period edges, in and out of working time."""
    starts = []
    for first, last in [
        (at(2026, 2, 9), at(2026, 3, 3)),
        (at(2026, 9, 24), at(2026, 10, 13)),
        (at(2026, 12, 24), at(2027, 1, 12)),
    ]:
        moment = first
        while moment < last:
            starts.append(moment)
            moment += timedelta(minutes=97)
    for day in (date(2026, 2, 13), date(2026, 2, 14), date(2026, 12, 31)):
        for hour, minute in [(8, 30), (12, 0), (13, 30), (17, 30), (0, 0)]:
            starts.append(datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI))
    return starts


AMOUNTS = [0, 0.25, 0.5, 1, 3.5, 4, 7.5, 8, 11.25, 16, 40.25, 75, 100]


@pytest.mark.parametrize(
    "calendar",
    [WorkingCalendar(), WorkingCalendar(overrides={date(2027, 1, 1): False, date(2026, 2, 21): True})],
    ids=["official", "with overrides"],
)
def test_working_hours_between_agrees_with_add_working_hours(calendar):
    one_microsecond = timedelta(microseconds=1)
    for start in sample_starts():
        previous_due = None
        for hours in AMOUNTS:
            due = calendar.add_working_hours(start, hours)
            assert due >= start
            assert calendar.working_hours_between(start, due) == hours
            assert calendar.working_hours_between(due, start) == -hours
            # The earliest such moment: a microsecond less falls short.
            if hours:
                assert calendar.working_hours_between(start, due - one_microsecond) < hours
            assert calendar.is_working_day(due.date())
            assert due == calendar.next_working_moment(due) or due.time() in (time(12, 0), time(17, 30))
            if previous_due is not None:
                assert due >= previous_due
            previous_due = due
            # Splitting a deadline in two changes nothing, as long as the second part is not zero.
            for first_part in (0.25, 3.5):
                if first_part < hours:
                    middle = calendar.add_working_hours(start, first_part)
                    assert calendar.add_working_hours(middle, hours - first_part) == due


def test_adding_back_the_hours_between_lands_no_later_than_the_end():
    calendar = WorkingCalendar(overrides={date(2027, 1, 1): False})
    rng = random.Random(4)
    starts = sample_starts()
    for _ in range(3000):
        start = rng.choice(starts)
        end = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
        hours = calendar.working_hours_between(start, end)
        back = calendar.add_working_hours(start, hours)
        if hours:
            assert back <= end
        assert calendar.working_hours_between(back, end) == 0


# Lights ------------------------------------------------------------------------------------------


def test_light_boundaries():
    calendar = WorkingCalendar()
    started = at(2026, 3, 9, 8, 30)  # Monday
    due = calendar.add_working_hours(started, 10)  # Tuesday 11:00
    assert due == at(2026, 3, 10, 11, 0)
    yellow_from = calendar.add_working_hours(started, 8)  # 80 %: Tuesday 09:00
    tick = timedelta(microseconds=1)

    def light(now, **kwargs):
        return light_for(now=now, started=started, due=due, calendar=calendar, **kwargs)

    assert light(started) == Light.GREEN == "green"
    assert light(started - timedelta(days=1)) == Light.GREEN
    assert light(yellow_from - tick) == Light.GREEN
    assert light(yellow_from) == Light.YELLOW == "yellow"
    assert light(due) == Light.YELLOW
    assert light(due + tick) == Light.RED == "red"
    # Monday evening is still 7.5 h in: green, however long the night.
    assert light(at(2026, 3, 10, 7, 0)) == Light.GREEN
    # Past due in wall-clock time is red even when no working time has passed since.
    assert light(at(2026, 3, 10, 12, 30)) == Light.RED
    # Other shares.
    assert light(at(2026, 3, 9, 13, 30), yellow_share=0.35) == Light.YELLOW  # 3.5 of 10 h
    assert light(at(2026, 3, 9, 12, 0) - tick, yellow_share=0.35) == Light.GREEN
    assert light(due - tick, yellow_share=1.0) == Light.GREEN
    assert light(due, yellow_share=1.0) == Light.YELLOW  # all of it used, not yet past
    assert light(due + tick, yellow_share=1.0) == Light.RED
    assert light(started, yellow_share=0) == Light.YELLOW
    with pytest.raises(ValueError):
        light(started, yellow_share=1.5)


def test_a_finished_case_keeps_the_light_it_finished_with():
    calendar = WorkingCalendar()
    started = at(2026, 3, 9, 8, 30)
    due = at(2026, 3, 10, 11, 0)
    much_later = at(2026, 6, 1, 10, 0)

    def light(finished):
        return light_for(now=much_later, started=started, due=due, calendar=calendar, finished=finished)

    assert light(None) == Light.RED
    assert light(at(2026, 3, 9, 16, 0)) == Light.GREEN
    assert light(at(2026, 3, 10, 10, 0)) == Light.YELLOW
    assert light(due) == Light.YELLOW
    assert light(due + timedelta(seconds=1)) == Light.RED


def test_a_deadline_across_the_festival_stays_green_through_it():
    calendar = WorkingCalendar()
    started = at(2026, 2, 13, 15, 0)
    due = calendar.add_working_hours(started, 16)  # Tuesday 24th 16:00
    for now in (at(2026, 2, 16, 10, 0), at(2026, 2, 20, 10, 0), at(2026, 2, 23, 23, 0)):
        # 10 of 16 h used before the festival, and the festival adds none.
        assert light_for(now=now, started=started, due=due, calendar=calendar) == Light.GREEN
    assert light_for(now=at(2026, 2, 24, 13, 30), started=started, due=due, calendar=calendar) == Light.YELLOW


# Speed ---------------------------------------------------------------------------------------------


def test_speed_of_a_sweep(capsys):
    """Not asserted beyond sanity: printed with -s for the benchmark notes."""
    rng = random.Random(7)
    base = at(2026, 11, 2, 0, 0)
    starts = [base + timedelta(minutes=rng.randrange(0, 60 * 24 * 60)) for _ in range(100_000)]
    amounts = [rng.choice([2, 4, 8, 16, 24, 40, 80]) for _ in range(100_000)]
    now = at(2026, 12, 20, 10, 0)
    calendar = WorkingCalendar(overrides={date(2027, 1, 1): False})

    began = clock.perf_counter()
    dues = [calendar.add_working_hours(s, h) for s, h in zip(starts, amounts, strict=True)]
    deadline_seconds = clock.perf_counter() - began

    began = clock.perf_counter()
    lights = [
        light_for(now=now, started=s, due=d, calendar=calendar) for s, d in zip(starts, dues, strict=True)
    ]
    light_seconds = clock.perf_counter() - began

    with capsys.disabled():
        print(
            f"\n100,000 add_working_hours: {deadline_seconds:.2f} s; "
            f"100,000 light_for: {light_seconds:.2f} s "
            f"({sum(light == Light.RED for light in lights)} red)"
        )
    assert {Light.GREEN, Light.YELLOW, Light.RED} <= set(lights)
    assert deadline_seconds < 30 and light_seconds < 30  # a walk gone per-minute would blow far past this

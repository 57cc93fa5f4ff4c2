"""A case's light, read from the deadlines stored on it: never stored, never set by hand.

A case runs on one of two clocks. Until it is dispatched it is on the accept clock
(``accept_warn_at`` / ``accept_due``), which stops when it is accepted; once dispatched it
is on the handling clock (``handle_warn_at`` / ``handle_due``), which stops when it is
handled. Actions that take a case back from its department (return, escalate, reopen)
clear the handling deadline, so "has a handling deadline" is what says which clock runs.

A stopped clock keeps the light it showed when it stopped: accepted on time stays green
while it waits for dispatch, handled late stays red after closing. Cases that left the
workflow without a finish time (transferred away, following a duplicate) are judged at
their last change.

The warn moments were worked out on the tenant's calendar when the deadlines were set,
so both ``light_of`` (one case in Python) and ``with_lights`` (a whole list in SQL) are
plain comparisons and always agree.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case as SqlCase
from django.db.models import DateTimeField, F, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThan, GreaterThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _l

from .calendar import Light
from .models import OPEN_STATUSES, Case

# A light as the pages say it.
LIGHT_TEXT = {Light.RED: _l("Red · overdue"), Light.YELLOW: _l("Yellow · due soon"),
              Light.GREEN: _l("Green · on time")}

ACCEPT, HANDLE = "accept", "handle"


def phase_of(case: Case) -> str:
    """Which clock the case runs on: ``"handle"`` once it has a handling deadline, else ``"accept"``."""
    return HANDLE if case.handle_due is not None else ACCEPT


def judged_at(case: Case, now: datetime) -> datetime:
    """The moment the light is read at: when the running clock stopped, else ``now``."""
    stops = (case.handled_at, case.closed_at) if phase_of(case) == HANDLE else (case.accepted_at, case.closed_at)
    for moment in stops:
        if moment is not None:
            return moment
    return now if case.status in OPEN_STATUSES else case.updated_at


def light_of(case: Case, now: datetime | None = None) -> Light:
    now = now or timezone.now()
    if phase_of(case) == HANDLE:
        warn, due = case.handle_warn_at, case.handle_due
    else:
        warn, due = case.accept_warn_at, case.accept_due
    at = judged_at(case, now)
    if at > due:
        return Light.RED
    if warn is not None and at >= warn:
        return Light.YELLOW
    return Light.GREEN


def clock_aliases(now: datetime | None) -> dict:
    """The running clock's due and warn moments and the moment its light is read at, as SQL
    expressions (``light_due``, ``light_warn``, ``light_judged_at``) by ``light_of``'s rule.
    ``now`` None leaves a clock that still runs judged at NULL: the search index stores
    stopped clocks' moments and reads running ones at the time of the search."""
    moment = DateTimeField()
    on_handle_clock = {"handle_due__isnull": False}
    # Finished without a stop time (transferred away, merged): judged at the last change.
    otherwise = SqlCase(When(status__in=OPEN_STATUSES, then=Value(now, output_field=moment)),
                      default=F("updated_at"), output_field=moment)
    return {
        "light_due": SqlCase(When(**on_handle_clock, then=F("handle_due")), default=F("accept_due"),
                             output_field=moment),
        "light_warn": SqlCase(When(**on_handle_clock, then=F("handle_warn_at")), default=F("accept_warn_at"),
                              output_field=moment),
        "light_judged_at": SqlCase(
            When(**on_handle_clock, then=Coalesce("handled_at", "closed_at", otherwise, output_field=moment)),
            default=Coalesce("accepted_at", "closed_at", otherwise, output_field=moment),
            output_field=moment,
        ),
    }


def with_lights(queryset: QuerySet[Case], now: datetime | None = None) -> QuerySet[Case]:
    """``queryset`` with a ``light`` column ("green" / "yellow" / "red") computed in SQL, the
    same way as ``light_of``, so lists can filter and count by light:
    ``with_lights(cases, now).filter(light="red")``."""
    return queryset.alias(**clock_aliases(now or timezone.now())).annotate(
        light=SqlCase(
            When(GreaterThan(F("light_judged_at"), F("light_due")), then=Value(Light.RED.value)),
            # A NULL warn moment compares to NULL: no yellow, green until due.
            When(GreaterThanOrEqual(F("light_judged_at"), F("light_warn")), then=Value(Light.YELLOW.value)),
            default=Value(Light.GREEN.value),
        )
    )

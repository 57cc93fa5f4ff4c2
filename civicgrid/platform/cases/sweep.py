"""The periodic deadline sweep of one tenant: reminders, overdue facts, automatic escalation.

Every deadline and warn moment is stored on the case when it is set (on the tenant's
calendar), so the sweep never asks the calendar about 10^5 cases: reminders and overdue
facts are one set-based statement over the open cases, and "once" is part of its WHERE
clause — ``reminded_at`` for reminders (dispatch and transfer clear it for the handling
phase), ``overdue_marks`` for overdue facts, an escalation event after the deadline for
escalation. Running the sweep twice in a row therefore finds nothing the second time.

Two sweeps of one schema at once (beat fired while a slow run was still going, two
workers) must not both act: each of the sweep's two transactions (the set-based rules,
then the escalations) holds a per-schema advisory lock, and a sweep that cannot take it
leaves that part to the one holding it.

The rules:

1. Reminders: a case past its warn moment and not yet reminded in this phase, one
   notification to each person who must act — while it waits to be accepted, the
   coordinators at its level whose area covers it (the same people ``notify`` tells of a
   new report); once dispatched, its department's handlers.
   The reminders' ids go out in one outbox event (``notifications.stored``), so open
   consoles pop them up and channels reach whoever leaves them unread.
2. Overdue facts: "accept" / "handle" appended to ``overdue_marks`` once, with a timeline
   entry and an outbox event (``case.overdue``); assessment counts them.
3. Automatic escalation: a case nobody at community or township level accepted or
   dispatched by its accept deadline (plus ``CIVICGRID_AUTO_ESCALATE_AFTER_HOURS`` working
   hours; 0 = as soon as it is overdue) goes one level up through
   ``actions.escalate_case``, at most ``ESCALATIONS_PER_RUN`` per run (oldest deadline
   first; the rest wait for the next run and the summary says how many). A case is
   escalated once per missed deadline: an escalation after the deadline, by hand or by
   the sweep, means the next level already has it.

"Waiting to be accepted" is reported, or escalated / returned / reopened with no
acceptance yet (``accepted_at`` empty). Accepted cases waiting for dispatch have no clock
of their own (the accept clock stopped when they were accepted), so they are neither
reminded, marked nor escalated here. Neither marks nor reminders bump ``version``: they
are facts about a case, not moves of it, and must not turn an operator's next step into a
conflict.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name

from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.audit.actions import record
from civicgrid.platform.notifications.models import Notification, OutboxEvent
from civicgrid.platform.notifications.outbox import request_relay
from civicgrid.platform.org.models import OrgUnit

from . import actions, deadlines, notify, rules
from .models import AWAITING_DISPATCH, Case, CaseEvent, Status

logger = logging.getLogger(__name__)

ESCALATIONS_PER_RUN = 500
# First key of the advisory lock (the second is the schema's hash), so it cannot meet
# another feature's advisory locks.
LOCK_NAMESPACE = 0x53574550  # "SWEP"

# Waiting to be accepted (escalated cases too, until someone dispatches them).
ACCEPTING = [str(s) for s in (Status.REPORTED, *AWAITING_DISPATCH)]
HANDLING = [str(s) for s in (Status.DISPATCHED, Status.IN_PROGRESS)]
ACCEPT_PHASE = Q(status__in=ACCEPTING, accepted_at__isnull=True)


def sweep(*, now: datetime | None = None) -> dict:
    """Sweep the current tenant schema; returns what it did (``skipped`` if another sweep
    holds the schema) and how long each part took."""
    started = time.perf_counter()
    schema = connection.schema_name
    if schema == get_public_schema_name():
        raise RuntimeError("the case sweep runs in a tenant schema, not in public")
    now = now or timezone.now()
    summary = {"schema": schema, "skipped": False, "reminded": 0, "notifications": 0, "overdue_accept": 0,
               "overdue_handle": 0, "escalated": 0, "escalations_left": 0}
    timings: dict[str, float] = {}
    # The set-based rules in one short transaction: the thousands of case rows they touch
    # are released before the slower escalations start, so operators never wait on them.
    with _stopwatch(timings, "facts"), transaction.atomic():
        if not _lock(schema):
            summary["skipped"] = True
        else:
            (summary["reminded"], summary["notifications"], summary["overdue_accept"],
             summary["overdue_handle"]) = _record_and_remind(now, schema)
            if summary["overdue_accept"] or summary["overdue_handle"] or summary["notifications"]:
                transaction.on_commit(lambda: request_relay(schema))
            counts = {k: v for k, v in summary.items() if k in COUNTED and v}
            if counts:  # each escalation is audited by its action
                record(action="case.sweep", actor=None, **counts)
    if not summary["skipped"]:
        # Lock again: a sweep that started in between does the escalations instead.
        with _stopwatch(timings, "escalations"), transaction.atomic():
            if _lock(schema):
                summary["escalated"], summary["escalations_left"] = _escalate(now)
    summary["seconds"] = round(time.perf_counter() - started, 3)
    summary["timings"] = timings
    logger.info("case sweep %s", summary)
    return summary


COUNTED = ("reminded", "notifications", "overdue_accept", "overdue_handle")


@contextmanager
def _stopwatch(timings: dict, name: str):
    began = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - began, 3)


def _lock(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", [LOCK_NAMESPACE, schema])
        return cursor.fetchone()[0]


def _tables() -> dict[str, str]:
    return {"case": Case._meta.db_table, "event": CaseEvent._meta.db_table,
            "outbox": OutboxEvent._meta.db_table, "notification": Notification._meta.db_table,
            "staff": StaffProfile._meta.db_table, "unit": OrgUnit._meta.db_table}


# --- overdue facts and reminders ------------------------------------------------------------
# One statement, so a case both newly late and not yet reminded is written once. The rows
# are picked and locked first (FOR UPDATE): a case an operator is moving right now is
# judged by its state after that move, not before.

ACCEPTING_CASE = "(status = ANY(%(accepting)s) AND accepted_at IS NULL)"
HANDLING_CASE = "status = ANY(%(handling)s)"

SWEEP_SQL = """
WITH todo AS (
    SELECT id, {accepting} AS accepting,
           ({accepting} AND accept_due < %(now)s AND NOT overdue_marks @> '["accept"]') IS TRUE AS mark_accept,
           ({handling} AND handle_due < %(now)s AND NOT overdue_marks @> '["handle"]') IS TRUE AS mark_handle,
           (reminded_at IS NULL AND CASE WHEN {accepting} THEN accept_warn_at <= %(now)s
                                         ELSE handle_warn_at <= %(now)s END) IS TRUE AS remind,
           (CASE WHEN {accepting} THEN accept_due < %(now)s ELSE handle_due < %(now)s END) IS TRUE AS late
    FROM {case}
    WHERE ({accepting} AND (accept_due < %(now)s AND NOT overdue_marks @> '["accept"]'
                            OR reminded_at IS NULL AND accept_warn_at <= %(now)s))
       OR ({handling} AND (handle_due < %(now)s AND NOT overdue_marks @> '["handle"]'
                           OR reminded_at IS NULL AND handle_warn_at <= %(now)s))
    FOR UPDATE
), swept AS (
    UPDATE {case} c
    SET overdue_marks = CASE WHEN t.mark_accept THEN c.overdue_marks || '["accept"]'
                             WHEN t.mark_handle THEN c.overdue_marks || '["handle"]'
                             ELSE c.overdue_marks END,
        reminded_at = CASE WHEN t.remind THEN %(now)s ELSE c.reminded_at END,
        updated_at = %(now)s
    FROM todo t WHERE c.id = t.id
    RETURNING c.id, c.number, c.status, c.version, c.level, c.org_path, c.department_id,
              t.accepting, t.mark_accept, t.mark_handle, t.remind, t.late,
              CASE WHEN t.mark_accept THEN 'accept' ELSE 'handle' END AS phase
), timeline AS (
    INSERT INTO {event} (case_id, action, from_status, to_status, actor_id, actor_label, comment, data, created_at)
    SELECT id, 'overdue', status, status, NULL, 'system', '', jsonb_build_object('phase', phase), %(now)s
    FROM swept WHERE mark_accept OR mark_handle
), outbox AS (
    INSERT INTO {outbox} (topic, payload, created_at)
    SELECT 'case.overdue',
           jsonb_build_object('case_id', id, 'number', number, 'status', status, 'version', version,
                              'schema', %(schema)s::text, 'phase', phase, 'holding_department', department_id,
                              'org_path', org_path),
           %(now)s
    FROM swept WHERE mark_accept OR mark_handle
), coordinators AS (
    -- waiting to be accepted: whoever coordinates at the case's level and covers its area
    SELECT swept.id AS case_id, s.user_id
    FROM swept
    JOIN unnest(%(levels)s::text[], %(roles)s::text[]) AS level_role(level, role) ON level_role.level = swept.level
    JOIN {staff} s ON s.is_active AND s.role = level_role.role
    LEFT JOIN {unit} u ON u.id = s.scope_org_unit_id
    WHERE swept.remind AND swept.accepting
      AND (u.id IS NULL OR (swept.org_path <> '' AND starts_with(swept.org_path, u.path)))
), handlers AS (
    -- being handled: the department's handlers
    SELECT swept.id AS case_id, s.user_id
    FROM swept JOIN {staff} s ON s.is_active AND s.role = %(handler)s AND s.scope_department_id = swept.department_id
    WHERE swept.remind AND NOT swept.accepting
), sent AS (
    INSERT INTO {notification} (recipient_id, topic, title, body, url, case_id, created_at, read_at)
    SELECT r.user_id, 'case.remind',
           left(replace(CASE WHEN swept.accepting AND swept.late THEN %(accept_late)s
                             WHEN swept.accepting THEN %(accept_near)s
                             WHEN swept.late THEN %(handle_late)s
                             ELSE %(handle_near)s END, '%%(number)s', swept.number), 200),
           '', '/cases/' || swept.id || '/', swept.id, %(now)s, NULL
    FROM (SELECT * FROM coordinators UNION SELECT * FROM handlers) r JOIN swept ON swept.id = r.case_id
    RETURNING id
), announced AS (
    -- the reminders' ids, so open pages are nudged and channels reach who does not read them
    INSERT INTO {outbox} (topic, payload, created_at)
    SELECT 'notifications.stored',
           jsonb_build_object('schema', %(schema)s::text, 'notifications', jsonb_agg(id ORDER BY id)),
           %(now)s
    FROM sent HAVING count(*) > 0
)
SELECT count(*) FILTER (WHERE remind), (SELECT count(*) FROM sent),
       count(*) FILTER (WHERE mark_accept), count(*) FILTER (WHERE mark_handle)
FROM swept
"""


def _record_and_remind(now: datetime, schema: str) -> tuple[int, int, int, int]:
    """(cases reminded, notifications stored, newly late to accept, newly late to handle)."""
    levels, roles = [], []
    for level, level_roles in notify.LEVEL_ROLES.items():
        for role in level_roles:
            levels.append(str(level))
            roles.append(str(role))
    params = {
        "now": now, "schema": schema, "accepting": ACCEPTING, "handling": HANDLING, "levels": levels,
        "roles": roles, "handler": str(StaffRole.DEPARTMENT_HANDLER),
        "accept_near": _("Case %(number)s is close to its deadline for acceptance"),
        "accept_late": _("Case %(number)s is overdue for acceptance"),
        "handle_near": _("Case %(number)s is close to its deadline for handling"),
        "handle_late": _("Case %(number)s is overdue for handling"),
    }
    sql = SWEEP_SQL.format(accepting=ACCEPTING_CASE, handling=HANDLING_CASE, **_tables())
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


# --- automatic escalation ------------------------------------------------------------------


def escalation_candidates(now: datetime):
    """Cases held at community or township level that nobody took up by their accept
    deadline and that were not escalated since it passed, oldest deadline first."""
    escalated_since_deadline = CaseEvent.objects.filter(case=OuterRef("pk"), action="escalate",
                                                        created_at__gte=OuterRef("accept_due"))
    return (Case.objects.filter(ACCEPT_PHASE, level__in=list(rules.NEXT_LEVEL), accept_due__lt=now)
            .exclude(Exists(escalated_since_deadline)).order_by("accept_due", "pk"))


def _escalate(now: datetime) -> tuple[int, int]:
    """(cases escalated, candidates left for the next run)."""
    after = Decimal(str(getattr(settings, "CIVICGRID_AUTO_ESCALATE_AFTER_HOURS", 0) or 0))
    candidates = escalation_candidates(now)
    # Locked and re-checked, skipping rows someone is changing right now: they are not
    # escalated under an operator's hands (the next run looks again).
    batch = list(candidates.select_for_update(of=("self",), skip_locked=True)
                 .values_list("pk", "accept_due")[:ESCALATIONS_PER_RUN + 1])
    more = len(batch) > ESCALATIONS_PER_RUN
    batch = batch[:ESCALATIONS_PER_RUN]
    if after > 0:
        # Oldest deadline first, so the cases late enough are a prefix of the batch.
        calendar = deadlines.tenant_calendar()
        late_enough = 0
        for _pk, due in batch:
            if Decimal(str(calendar.working_hours_between(due, now))) < after:
                break
            late_enough += 1
        batch = batch[:late_enough]
    reason = _("Not taken up by its accept deadline: escalated automatically.")
    escalated = 0
    for pk, _due in batch:
        try:
            actions.escalate_case(staff=None, case_id=pk, reason=reason, automatic=True)
        except actions.CaseConflict:  # moved on meanwhile
            continue
        escalated += 1
    # Those escalated now are no longer candidates: what remains waits for the next run.
    left = candidates.count() if more and len(batch) == ESCALATIONS_PER_RUN else 0
    return escalated, left

"""Which action may move a case from which status, and who may take it.

Pure rules, no database: ``actions`` checks them under a row lock, the console
and the API ask them which buttons to show.
"""

from __future__ import annotations

from django.conf import settings

from civicgrid.platform.accounts.staff.models import StaffRole

from .models import AWAITING_DISPATCH, Level, Status

S = Status
R = StaffRole

# action → (statuses it may start from, status it leads to; None = unchanged)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "accept": ((S.REPORTED,), S.ACCEPTED),
    "reject": ((S.REPORTED,), S.REJECTED),
    "dispatch": (AWAITING_DISPATCH, S.DISPATCHED),
    "start": ((S.DISPATCHED,), S.IN_PROGRESS),
    "return": ((S.DISPATCHED, S.IN_PROGRESS), S.RETURNED),
    "request_extension": ((S.DISPATCHED, S.IN_PROGRESS), None),
    "decide_extension": ((S.DISPATCHED, S.IN_PROGRESS), None),
    "handle": ((S.IN_PROGRESS,), S.HANDLED),
    "escalate": ((S.REPORTED, *AWAITING_DISPATCH, S.DISPATCHED, S.IN_PROGRESS), S.ESCALATED),
    "transfer": ((S.DISPATCHED, S.IN_PROGRESS, S.RETURNED), S.DISPATCHED),
    "transfer_tenant": ((S.REPORTED, *AWAITING_DISPATCH), S.TRANSFERRED),
    "rate": ((S.HANDLED,), None),
    "close": ((S.HANDLED,), S.CLOSED),
    "reopen": ((S.CLOSED,), S.REOPENED),
    "supervise": ((S.REPORTED, *AWAITING_DISPATCH, S.DISPATCHED, S.IN_PROGRESS, S.HANDLED), None),
    "link_duplicate": ((S.REPORTED, S.ACCEPTED), S.MERGED),
}

# Who coordinates a case at each level it can be held at.
COORDINATORS = {
    Level.COUNTY: {R.COUNTY_ADMIN, R.COMMAND_OPERATOR},
    Level.TOWNSHIP: {R.COUNTY_ADMIN, R.COMMAND_OPERATOR, R.TOWNSHIP_OPERATOR},
    Level.COMMUNITY: {R.COUNTY_ADMIN, R.COMMAND_OPERATOR, R.TOWNSHIP_OPERATOR, R.COMMUNITY_OPERATOR},
}
# Actions taken by the department holding the case.
HANDLER_ACTIONS = {"start", "return", "request_extension", "handle"}
# Actions only the county's command centre takes.
COUNTY_ACTIONS = {"decide_extension", "transfer_tenant", "reopen", "supervise"}
REPORTER_ROLES = {R.COUNTY_ADMIN, R.COMMAND_OPERATOR, R.TOWNSHIP_OPERATOR, R.COMMUNITY_OPERATOR, R.GRID_WORKER,
                  R.DEPARTMENT_HANDLER}

NEXT_LEVEL = {Level.COMMUNITY: Level.TOWNSHIP, Level.TOWNSHIP: Level.COUNTY}
# A closed case can be reopened for this many days.
REOPEN_DAYS = getattr(settings, "CIVICGRID_REOPEN_DAYS", 15)


def can_move(action: str, status: str) -> bool:
    sources, _target = TRANSITIONS[action]
    return status in sources


def target_status(action: str, status: str) -> str:
    return TRANSITIONS[action][1] or status


def role_may(action: str, *, role: str, level: str) -> bool:
    """Whether a role may take ``action`` on a case held at ``level`` (scope is checked apart)."""
    if action in HANDLER_ACTIONS:
        return role == R.DEPARTMENT_HANDLER
    if action in COUNTY_ACTIONS:
        return role in {R.COUNTY_ADMIN, R.COMMAND_OPERATOR}
    return role in COORDINATORS[level]


def may_act(staff, action: str, case) -> bool:
    """Whether ``staff`` may take ``action`` on ``case``: their role at the level the
    case is held at, and for handling steps, the department holding it. (Whether
    they may see the case at all is the selectors' scope.)"""
    if not role_may(action, role=staff.role, level=case.level):
        return False
    if action in HANDLER_ACTIONS:
        return case.department_id is not None and case.department_id == staff.scope_department_id
    return True

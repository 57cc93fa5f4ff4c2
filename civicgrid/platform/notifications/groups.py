"""Channel-layer group names, and which groups a staff member's socket joins.

Per user, per department, per area (an org unit's subtree) and per command
centre, never tenant-wide: channels-redis drops messages past a channel's
capacity quietly, so broadcasts to everyone are a trap. The socket is only a
nudge; the stored notification is the truth.

Group names allow only ASCII letters, digits, ``-``, ``_`` and ``.`` and fewer
than 100 characters, while org codes may hold any character: areas are named
by a digest of their path.
"""

from __future__ import annotations

import hashlib

from civicgrid.platform.accounts.staff.models import ScopeKind, StaffProfile, StaffRole

# Who hears of every case in the tenant (and so gets case nudges tenant-wide).
COMMAND_ROLES = {StaffRole.COMMAND_OPERATOR, StaffRole.COUNTY_ADMIN}


def user_group(schema: str, user_id: int) -> str:
    return f"t.{schema}.user.{user_id}"


def department_group(schema: str, department_id: int) -> str:
    return f"t.{schema}.dept.{department_id}"


def area_group(schema: str, path: str) -> str:
    return f"t.{schema}.area.{hashlib.blake2s(path.encode(), digest_size=10).hexdigest()}"


def command_group(schema: str) -> str:
    return f"t.{schema}.command"


def groups_for(schema: str, staff: StaffProfile) -> list[str]:
    """The groups this staff member's socket listens to: always their own, plus the
    department, area or command centre whose case news they follow."""
    groups = [user_group(schema, staff.user_id)]
    if staff.role in COMMAND_ROLES:
        groups.append(command_group(schema))
    elif staff.scope_kind == ScopeKind.DEPARTMENT and staff.scope_department_id:
        groups.append(department_group(schema, staff.scope_department_id))
    elif staff.scope_kind == ScopeKind.ORG_UNIT and staff.scope_org_unit_id:
        groups.append(area_group(schema, staff.scope_org_unit.path))
    return groups


def groups_for_case(schema: str, *, department_id: int | None, org_path: str) -> list[str]:
    """Whose case lists a change of this case touches: the command centre, the
    department holding it, and every area on its path (a township's staff see
    their communities' cases)."""
    groups = [command_group(schema)]
    if department_id:
        groups.append(department_group(schema, department_id))
    parts = [part for part in org_path.split("/") if part]
    groups += [area_group(schema, "/".join(parts[:depth]) + "/") for depth in range(1, len(parts) + 1)]
    return groups

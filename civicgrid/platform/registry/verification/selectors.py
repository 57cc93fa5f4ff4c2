"""Who may verify lists, and the registry facts a verification compares, scoped to the actor."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models.expressions import RawSQL

from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.registry.models import Person
from civicgrid.platform.registry.selectors import persons_for

# Grid workers collect data in the field and auditors read the trail: neither checks lists.
VERIFY_ROLES = {StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR, StaffRole.TOWNSHIP_OPERATOR,
                StaffRole.COMMUNITY_OPERATOR}
# Up to this many keys a lookup is a few ``IN (…)`` queries; past it the keys go to a
# temporary table and PostgreSQL joins once, instead of planning dozens of huge IN lists.
IN_CHUNK = 5_000
TEMP_TABLE_FROM = 20_000


def can_verify(staff: StaffProfile | None) -> bool:
    """``None`` is the system (the command line without ``--as``): the whole tenant."""
    if staff is None:
        return True
    if staff.role in VERIFY_ROLES:
        return True
    # A township department handles its township; a county department has no registry scope.
    return (staff.role == StaffRole.DEPARTMENT_HANDLER and staff.scope_department_id is not None
            and staff.scope_department.township_id is not None)


def _persons(staff: StaffProfile | None):
    rows = Person.objects.all() if staff is None else persons_for(staff)
    return rows.order_by()


def registered_details(staff: StaffProfile | None, indexes: Iterable[str]) -> dict[str, tuple[str, str, str]]:
    """{blind index: (name, registered address, actual address)} for the persons among
    ``indexes`` that ``staff`` may see. Nothing is decrypted: the blind index is the key."""
    keys = list(dict.fromkeys(indexes))
    columns = ("id_number_index", "name", "registered_address", "actual_address")
    found: dict[str, tuple[str, str, str]] = {}
    if len(keys) < TEMP_TABLE_FROM:
        for start in range(0, len(keys), IN_CHUNK):
            chunk = keys[start:start + IN_CHUNK]
            for index, name, registered, actual in _persons(staff).filter(
                    id_number_index__in=chunk).values_list(*columns):
                found[index] = (name, registered, actual)
        return found
    with connection.cursor() as cursor:
        # ON COMMIT DROP needs a transaction; the caller's atomic block provides it.
        cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS registry_verify_keys (idx text PRIMARY KEY) "
                       "ON COMMIT DROP")
        cursor.execute("TRUNCATE registry_verify_keys")
        with cursor.cursor.copy("COPY registry_verify_keys (idx) FROM STDIN") as copy:
            # Blind indexes are hex digests: nothing to escape, so one block of text lines.
            copy.write("\n".join(keys) + "\n")
        cursor.execute("ANALYZE registry_verify_keys")
    # The scope stays the selector's: the keys only narrow what persons_for already allows.
    in_keys = RawSQL("SELECT idx FROM registry_verify_keys", [])
    for index, name, registered, actual in _persons(staff).filter(
            id_number_index__in=in_keys).values_list(*columns):
        found[index] = (name, registered, actual)
    return found

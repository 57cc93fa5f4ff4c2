"""Registry reads, already scoped to the actor. Views and the API never scope by themselves."""

from __future__ import annotations

from django.db.models import Model, QuerySet
from django.http import Http404

from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.org.selectors import unit_subtree_filter

from .models import Building, CareKind, CareRecord, House, Household, Organisation, Person, Place, Thing

GRID_BOUND_MODELS = (Person, Household, Building, House, Place, Organisation, Thing)
# Who may see a protected value in clear (with a stated purpose, audited).
UNMASK_ROLES = {StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR}
# Who may add and change registry records (within their scope).
WRITE_ROLES = {StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR, StaffRole.TOWNSHIP_OPERATOR,
               StaffRole.COMMUNITY_OPERATOR, StaffRole.GRID_WORKER}


def registry_for(staff: StaffProfile, model: type[Model]) -> QuerySet:
    """Every row of a grid-bound model that ``staff`` may see."""
    rows = model.objects.select_related("grid")
    # Department handlers are confined by their department: a township
    # department sees its township, a county department sees nothing here.
    confine = unit_subtree_filter(staff, "grid")
    return rows if confine is None else rows.filter(confine)


def persons_for(staff: StaffProfile) -> QuerySet[Person]:
    return registry_for(staff, Person).select_related("household")


def access(staff: StaffProfile, model: type[Model], pk) -> Model:
    """One record if the actor may see it; the same 404 for missing and forbidden."""
    try:
        return registry_for(staff, model).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def care_kinds_for(staff: StaffProfile) -> QuerySet[CareKind]:
    return CareKind.objects.filter(granted_roles__contains=[staff.role])


def care_records_for(staff: StaffProfile) -> QuerySet[CareRecord]:
    return CareRecord.objects.select_related("kind", "person", "person__grid").filter(
        kind__in=care_kinds_for(staff), person__in=persons_for(staff)
    )


def can_unmask(staff: StaffProfile) -> bool:
    return staff.role in UNMASK_ROLES


def can_write(staff: StaffProfile) -> bool:
    return staff.role in WRITE_ROLES

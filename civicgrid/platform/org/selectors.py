"""Reads of the org tree, scoped to the actor."""

from __future__ import annotations

from django.db.models import CharField, Count, Func, Q, QuerySet, Value

from civicgrid.platform.accounts.staff.models import ScopeKind, StaffProfile, StaffRole

from .models import Department, OrgUnit

# Roles that see the whole tenant whatever their scope says.
TENANT_WIDE_ROLES = {StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR, StaffRole.AUDITOR}


def unit_subtree_filter(staff: StaffProfile, field: str = "") -> Q | None:
    """A filter confining ``field`` (an OrgUnit relation; "" for OrgUnit itself) to the
    staff member's subtree; None means the whole tenant; Q(pk__in=[]) means nothing."""
    if staff.role in TENANT_WIDE_ROLES or staff.scope_kind == ScopeKind.TENANT:
        return None
    if staff.scope_kind == ScopeKind.ORG_UNIT and staff.scope_org_unit_id:
        prefix = f"{field}__path__startswith" if field else "path__startswith"
        return Q(**{prefix: staff.scope_org_unit.path})
    if staff.scope_kind == ScopeKind.DEPARTMENT and staff.scope_department and staff.scope_department.township_id:
        prefix = f"{field}__path__startswith" if field else "path__startswith"
        return Q(**{prefix: staff.scope_department.township.path})
    return Q(pk__in=[])


def units_for(staff: StaffProfile) -> QuerySet[OrgUnit]:
    units = OrgUnit.objects.select_related("parent")
    confine = unit_subtree_filter(staff)
    return units if confine is None else units.filter(confine)


def grids_for(staff: StaffProfile) -> QuerySet[OrgUnit]:
    return units_for(staff).filter(level=OrgUnit.Level.GRID)


def departments_for(staff: StaffProfile) -> QuerySet[Department]:
    return Department.objects.select_related("township").filter(is_active=True)


def access_unit(staff: StaffProfile, code: str) -> OrgUnit:
    """The unit with ``code`` if the actor may see it; one not-found for missing and forbidden."""
    return units_for(staff).get(code=code)


def tree_for(staff: StaffProfile) -> QuerySet[OrgUnit]:
    """The visible units with the number of active staff scoped to each."""
    return units_for(staff).annotate(staff_count=Count("staff", filter=Q(staff__is_active=True)))


def grid_workers(grid: OrgUnit) -> QuerySet[StaffProfile]:
    return StaffProfile.objects.select_related("user").filter(
        role=StaffRole.GRID_WORKER, scope_org_unit=grid, is_active=True).order_by("user__username")


def staff_for(staff: StaffProfile) -> QuerySet[StaffProfile]:
    """Staff the actor may see: everyone for tenant-wide roles; otherwise those
    scoped inside the actor's subtree or to the actor's department, and the actor."""
    members = StaffProfile.objects.select_related("user", "scope_org_unit", "scope_department").order_by(
        "role", "user__username")
    confine = unit_subtree_filter(staff, "scope_org_unit")
    if confine is None:
        return members
    if staff.scope_department_id:
        confine |= Q(scope_department=staff.scope_department_id)
    return members.filter(confine | Q(pk=staff.pk))


def townships() -> QuerySet[OrgUnit]:
    return OrgUnit.objects.filter(level=OrgUnit.Level.TOWNSHIP)


def grid_feature_collection(staff: StaffProfile) -> dict:
    """The visible grids (and townships, drawn underneath as the base) as GeoJSON."""
    features = []
    units = units_for(staff).filter(level__in=[OrgUnit.Level.TOWNSHIP, OrgUnit.Level.GRID],
                                    boundary__isnull=False).values_list("code", "name", "level", "boundary")
    for code, name, level, boundary in units:
        features.append({"type": "Feature", "geometry": boundary,
                         "properties": {"code": code, "name": name, "level": level}})
    return {"type": "FeatureCollection", "features": features}



class TownshipCode(Func):
    """The township code of a grid path, in SQL (its first segment: ``T01/T01-C01/…`` → ``T01``)."""

    function = "split_part"
    output_field = CharField()

    def __init__(self, path):
        super().__init__(path, Value("/"), Value(1))

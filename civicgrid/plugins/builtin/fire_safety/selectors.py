"""Reading the module's records, always through the reader's scope."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.cases.models import Category
from civicgrid.platform.cases.selectors import scope_of
from civicgrid.platform.org.models import OrgUnit

from .models import CheckItem, Hazard, Inspection, RiskUnit

# Who reads the registry (department handlers see the cases themselves, not the registry).
READER_ROLES = frozenset({StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR, StaffRole.TOWNSHIP_OPERATOR,
                          StaffRole.COMMUNITY_OPERATOR, StaffRole.GRID_WORKER, StaffRole.AUDITOR})
EDITOR_ROLES = frozenset({StaffRole.COUNTY_ADMIN})
INSPECTOR_ROLES = frozenset({StaffRole.GRID_WORKER})
# Who registers and edits units (the registry's writers, less the grid worker who inspects
# them): county-wide for the county admin and the command centre, within their area for
# township and community operators.
MANAGER_ROLES = frozenset({StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR, StaffRole.TOWNSHIP_OPERATOR,
                           StaffRole.COMMUNITY_OPERATOR})


def may_read(staff) -> bool:
    return staff is not None and staff.role in READER_ROLES


def may_manage(staff) -> bool:
    return staff is not None and staff.role in MANAGER_ROLES


def _area(staff) -> str | None:
    """None: the whole county; "": nothing; else the org path the reader's units are under."""
    if not may_read(staff):
        return ""
    scope = scope_of(staff)
    if scope.everything:
        return None
    return scope.org_path or ""


def units_for(staff) -> QuerySet[RiskUnit]:
    units = RiskUnit.objects.select_related("grid")
    area = _area(staff)
    if area is None:
        return units
    if not area:
        return units.none()
    return units.filter(grid__path__startswith=area)


def unit_for(staff, pk) -> RiskUnit:
    try:
        return units_for(staff).select_related("building").get(pk=pk)
    except (RiskUnit.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def inspections_for(staff) -> QuerySet[Inspection]:
    inspections = Inspection.objects.select_related("unit", "grid", "inspected_by")
    area = _area(staff)
    if area is None:
        return inspections
    if not area:
        return inspections.none()
    return inspections.filter(grid__path__startswith=area)


def grids_for(staff) -> QuerySet[OrgUnit]:
    grids = OrgUnit.objects.filter(level=OrgUnit.Level.GRID)
    area = _area(staff)
    if area is None:
        return grids
    return grids.filter(path__startswith=area) if area else grids.none()


def managed_units_for(staff) -> QuerySet[RiskUnit]:
    """The units ``staff`` may edit: those they read, if they manage units at all."""
    return units_for(staff) if may_manage(staff) else RiskUnit.objects.none()


def managed_unit_for(staff, pk) -> RiskUnit:
    try:
        return managed_units_for(staff).select_related("building").get(pk=pk)
    except (RiskUnit.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def managed_grids(staff) -> QuerySet[OrgUnit]:
    """The grids ``staff`` may put a unit in."""
    return grids_for(staff).order_by("path") if may_manage(staff) else OrgUnit.objects.none()


def managed_buildings(staff):
    """The buildings ``staff`` may tie a unit to: those in their grids."""
    from civicgrid.platform.registry.models import Building

    if not may_manage(staff):
        return Building.objects.none()
    area = _area(staff)
    return Building.objects.all() if area is None else Building.objects.filter(grid__path__startswith=area)


def checklist(kind: str) -> list[CheckItem]:
    return list(CheckItem.objects.filter(kind=kind, is_active=True).order_by("position", "id"))


def hazard_categories() -> QuerySet[Category]:
    return Category.objects.filter(parent__code="FIRE", is_active=True).order_by("sort_order", "code")


def history(unit: RiskUnit) -> list[Inspection]:
    """The unit's inspections, newest first, each with its answers and the hazards they found."""
    inspections = list(unit.inspections.select_related("inspected_by").order_by("-inspected_at", "-id")[:50])
    results: dict[int, list] = {}
    from .models import ItemResult

    for result in (ItemResult.objects.filter(inspection__in=inspections).select_related("hazard", "hazard__case")
                   .order_by("id")):
        results.setdefault(result.inspection_id, []).append(result)
    for inspection in inspections:
        inspection.answers = results.get(inspection.pk, [])
    return inspections


def open_hazards(unit: RiskUnit) -> list[Hazard]:
    return list(unit.hazards.filter(status=Hazard.Status.OPEN).select_related("case", "item"))


def figures(staff) -> dict:
    """The dashboard's: units by risk level, open hazards, this month's inspection coverage by grid."""
    units = units_for(staff)
    by_level = dict(units.filter(is_active=True).values_list("risk_level").annotate(n=Count("id")))
    open_count = Hazard.objects.filter(status=Hazard.Status.OPEN, unit__in=units).count()
    month_start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    coverage = (units.filter(is_active=True).values("grid__code", "grid__name")
                .annotate(units=Count("id", distinct=True),
                          inspected=Count("id", distinct=True, filter=Q(inspections__inspected_at__gte=month_start)))
                .order_by("grid__code"))
    rows = list(coverage)
    total = sum(row["units"] for row in rows)
    inspected = sum(row["inspected"] for row in rows)
    return {"by_level": by_level, "open_hazards": open_count, "coverage": rows, "units": total,
            "inspected": inspected, "percent": round(100 * inspected / total) if total else 0}

"""Case reads, already scoped to the actor. Views, the API and actions never scope by themselves."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from civicgrid.platform.accounts.staff.models import ScopeKind, StaffProfile, StaffRole
from civicgrid.platform.org.models import Department, OrgUnit

from . import rules
from .models import Case, Category, RoutingRule, Status

TENANT_WIDE = {StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR, StaffRole.AUDITOR}


@dataclass(frozen=True)
class CaseScope:
    """Which cases someone may see, as plain terms every store can filter on: the
    database (``case_scope``) and the search index read the same description.
    A case is visible if any term admits it; no term at all admits nothing."""

    everything: bool = False
    org_path: str = ""  # cases in this area (a prefix of the case's org path)
    department_id: int | None = None  # cases this department holds or once held
    reporter_id: int | None = None  # their own reports, wherever they are


def scope_of(staff: StaffProfile) -> CaseScope:
    if staff.role in TENANT_WIDE:
        return CaseScope(everything=True)
    if staff.role == StaffRole.DEPARTMENT_HANDLER:
        # The cases their department holds, and those it once held (its timeline shows it).
        return CaseScope(department_id=staff.scope_department_id or None)
    if staff.scope_kind == ScopeKind.TENANT:
        return CaseScope(everything=True)
    area = staff.scope_org_unit.path if staff.scope_kind == ScopeKind.ORG_UNIT and staff.scope_org_unit_id else ""
    return CaseScope(org_path=area, reporter_id=staff.user_id)


def case_scope(staff: StaffProfile) -> Q | None:
    """None: every case of the tenant; otherwise the filter for the actor's cases."""
    scope = scope_of(staff)
    if scope.everything:
        return None
    admitted = Q(pk__in=[])
    if scope.department_id:
        admitted |= Q(department_id=scope.department_id) | Q(events__data__department=scope.department_id)
    if scope.org_path:
        admitted |= Q(org_path__startswith=scope.org_path)
    if scope.reporter_id:
        admitted |= Q(reporter_id=scope.reporter_id)
    return admitted


def cases_for(staff: StaffProfile) -> QuerySet[Case]:
    cases = Case.objects.select_related("category", "grid", "department")
    scope = case_scope(staff)
    return cases if scope is None else cases.filter(pk__in=Case.objects.filter(scope).values("pk"))


def case_for(staff: StaffProfile, pk) -> Case:
    """One case if the actor may see it; the same 404 for missing and forbidden."""
    try:
        return cases_for(staff).select_related("reporter").get(pk=pk)
    except (Case.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def reported_with_key(reporter, client_key: str) -> Case | None:
    """The case ``reporter`` already sent under ``client_key`` (their phone's key for one report)."""
    if not client_key or getattr(reporter, "pk", None) is None:
        return None
    return Case.objects.select_related("category", "grid").filter(reporter=reporter, client_key=client_key).first()


def leaf_categories() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True, parent__isnull=False)


def suggested_department(category: Category, grid: OrgUnit | None):
    """The routing rule for the deepest area containing the grid, else the county-wide
    one, else the department the province's defaults name for the category."""
    rules = RoutingRule.objects.filter(category=category, department__is_active=True).select_related("department",
                                                                                                       "area")
    best, depth = None, -1
    for rule in rules:
        if rule.area is None:
            if depth < 0:
                best, depth = rule, 0
        elif grid is not None and grid.path.startswith(rule.area.path) and len(rule.area.path) > depth:
            best, depth = rule, len(rule.area.path)
    if best:
        return best.department
    if category.department_code:
        return Department.objects.filter(code=category.department_code, is_active=True).first()
    return None


def open_actions(staff: StaffProfile, case: Case, *, extension_waiting: bool | None = None) -> set[str]:
    """The actions (names in ``rules.TRANSITIONS``) ``staff`` may take on ``case`` as it
    stands: what the actions check (transition, role, the holding department) less
    what they would refuse as a conflict. Pages and the API offer exactly these."""
    names = {action for action in rules.TRANSITIONS
             if rules.can_move(action, case.status) and rules.may_act(staff, action, case)}
    if names & {"request_extension", "decide_extension"}:
        if extension_waiting is None:
            extension_waiting = case.extensions.filter(granted__isnull=True).exists()
        names.discard("request_extension" if extension_waiting else "decide_extension")
    if case.level not in rules.NEXT_LEVEL:
        names.discard("escalate")
    if case.rating is not None:
        names.discard("rate")
    if case.closed_at and (timezone.now() - case.closed_at).days > rules.REOPEN_DAYS:
        names.discard("reopen")
    return names


def open_load_by_department() -> dict[int, int]:
    """{department id: cases it holds now (dispatched or being handled)}, one query."""
    from django.db.models import Count

    return dict(Case.objects.filter(status__in=(Status.DISPATCHED, Status.IN_PROGRESS), department__isnull=False)
                .order_by().values_list("department_id").annotate(n=Count("pk")).values_list("department_id", "n"))

"""Who sees which businesses, licence statuses, a business's history, the widget's figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Case as CaseWhen
from django.db.models import CharField, Count, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from civicgrid.platform.accounts.staff.models import StaffRole as R
from civicgrid.platform.cases.models import OPEN_STATUSES, Case
from civicgrid.platform.org.selectors import unit_subtree_filter

from .categories import DEPARTMENT
from .models import EXPIRING_DAYS, BusinessChange, FoodBusiness, FoodCase, LicenceStatus, Reminder

# Who may look at the register (within their scope) ...
VIEW_ROLES = frozenset({R.COUNTY_ADMIN, R.COMMAND_OPERATOR, R.TOWNSHIP_OPERATOR, R.COMMUNITY_OPERATOR,
                        R.GRID_WORKER, R.DEPARTMENT_HANDLER, R.AUDITOR})
# ... who keeps it (register, edit, import) ...
EDIT_ROLES = frozenset({R.COUNTY_ADMIN, R.COMMAND_OPERATOR, R.DEPARTMENT_HANDLER})
# ... who files a complaint for a resident or the hotline ...
COMPLAINT_ROLES = frozenset({R.COUNTY_ADMIN, R.COMMAND_OPERATOR, R.TOWNSHIP_OPERATOR, R.COMMUNITY_OPERATOR,
                             R.DEPARTMENT_HANDLER})
# ... and who inspects (in their own grid).
INSPECT_ROLES = frozenset({R.GRID_WORKER})


def is_market_supervision(staff) -> bool:
    department = getattr(staff, "scope_department", None)
    return department is not None and department.code == DEPARTMENT


def may_view(staff) -> bool:
    if staff is None or staff.role not in VIEW_ROLES:
        return False
    return staff.role != R.DEPARTMENT_HANDLER or is_market_supervision(staff)


def may_edit(staff) -> bool:
    return may_view(staff) and staff.role in EDIT_ROLES


def may_complain(staff) -> bool:
    return may_view(staff) and staff.role in COMPLAINT_ROLES


def may_inspect(staff) -> bool:
    return may_view(staff) and staff.role in INSPECT_ROLES


def businesses_for(staff) -> QuerySet:
    """The businesses ``staff`` may see: the county's for county-wide roles and market
    supervision, their area's for township, community and grid staff; none for anyone else."""
    if not may_view(staff):
        return FoodBusiness.objects.none()
    area = area_filter(staff, "grid")
    return FoodBusiness.objects.all() if area is None else FoodBusiness.objects.filter(area)


def area_filter(staff, field: str) -> Q | None:
    """Where ``staff`` may look, on an org-unit relation: None for the whole county (county-wide
    roles, and market supervision at county level), else their subtree; nothing for a member
    whose scope is missing (deny by default)."""
    if staff.role == R.DEPARTMENT_HANDLER:
        township = staff.scope_department.township if is_market_supervision(staff) else None
        return None if township is None else Q(**{f"{field}__path__startswith": township.path})
    return unit_subtree_filter(staff, field)


def status_expression(today: date):
    return CaseWhen(
        When(licence__isnull=True, then=Value("")),
        When(licence__expires_on__lt=today, then=Value(LicenceStatus.EXPIRED.value)),
        When(licence__expires_on__lte=today + timedelta(days=EXPIRING_DAYS), then=Value(LicenceStatus.EXPIRING.value)),
        default=Value(LicenceStatus.VALID.value), output_field=CharField())


def status_filter(status: str, today: date) -> Q:
    soon = today + timedelta(days=EXPIRING_DAYS)
    if status == LicenceStatus.EXPIRED:
        return Q(licence__expires_on__lt=today)
    if status == LicenceStatus.EXPIRING:
        return Q(licence__expires_on__gte=today, licence__expires_on__lte=soon)
    if status == LicenceStatus.VALID:
        return Q(licence__expires_on__gt=soon)
    return Q()


def licence_status(expires_on: date | None, today: date | None = None) -> str:
    if expires_on is None:
        return ""
    today = today or timezone.localdate()
    if expires_on < today:
        return LicenceStatus.EXPIRED
    if expires_on <= today + timedelta(days=EXPIRING_DAYS):
        return LicenceStatus.EXPIRING
    return LicenceStatus.VALID


def with_licence_status(businesses: QuerySet, today: date | None = None) -> QuerySet:
    today = today or timezone.localdate()
    return businesses.select_related("licence", "grid").annotate(licence_status=status_expression(today))


def filtered(businesses: QuerySet, *, kind: str = "", grid=None, status: str = "", q: str = "",
             today: date | None = None) -> QuerySet:
    today = today or timezone.localdate()
    if kind:
        businesses = businesses.filter(kind=kind)
    if grid is not None:
        businesses = businesses.filter(grid__path__startswith=grid.path)
    if status:
        businesses = businesses.filter(status_filter(status, today))
    if q:
        businesses = businesses.filter(Q(name__icontains=q) | Q(licence__number__icontains=q)
                                       | Q(address__icontains=q))
    return businesses


def business_for(staff, pk) -> FoodBusiness:
    try:
        return with_licence_status(businesses_for(staff)).get(pk=pk)
    except (FoodBusiness.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def visible_cases(staff, business) -> list:
    """The business's cases the caller may see (the cases' own scope), newest first."""
    from civicgrid.platform.cases.selectors import cases_for

    ids = FoodCase.objects.filter(business=business).values("case_id")
    return list(cases_for(staff).filter(pk__in=ids).select_related("category").order_by("-reported_at")[:100])


@dataclass
class HistoryEntry:
    at: object
    kind: str
    text: str
    url: str = ""


def field_label(name: str) -> str:
    """A changed field's name as people read it ("licence_expires_on" → 有效期至)."""
    from .models import Licence

    for model, prefix in ((Licence, "licence_"), (FoodBusiness, "")):
        if name.startswith(prefix):
            try:
                return str(model._meta.get_field(name[len(prefix):]).verbose_name)
            except FieldDoesNotExist:
                continue
    return name


def history(staff, business, *, limit: int = 100) -> list[HistoryEntry]:
    """What happened to the business, newest first: its changes, reminders, inspections and cases."""
    from django.utils.translation import gettext as _

    entries: list[HistoryEntry] = []
    labels = {"create": _("Registered"), "update": _("Edited"), "import": _("Imported")}
    for change in BusinessChange.objects.filter(business=business).select_related("actor")[:limit]:
        what = labels.get(change.action, change.action)
        fields = ", ".join(field_label(name) for name in change.fields or ())
        who = change.actor.get_username() if change.actor else _("system")
        entries.append(HistoryEntry(change.at, change.action, f"{what} ({who}){': ' + fields if fields else ''}"))
    for reminder in Reminder.objects.filter(licence__business=business)[:limit]:
        text = (_("Reminded: the licence expires on %(date)s") if reminder.threshold == Reminder.Threshold.EXPIRING
                else _("Reminded: the licence expired on %(date)s")) % {"date": reminder.expires_on.isoformat()}
        entries.append(HistoryEntry(reminder.created_at, "reminder", text))
    for case in visible_cases(staff, business):
        entries.append(HistoryEntry(case.reported_at, "case", f"{case.number} {case.title} · "
                                    f"{case.get_status_display()}", f"/cases/{case.pk}/"))
    for inspection in inspections_of(business)[:limit]:
        entries.append(HistoryEntry(inspection.inspected_at, "inspection",
                                    _("Inspected by %(who)s: %(outcome)s") % {
                                        "who": inspection.inspected_by.get_username(),
                                        "outcome": inspection.get_outcome_display()},
                                    f"/p/food_safety/inspections/{inspection.pk}/"))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]


def inspections_of(business) -> QuerySet:
    from .models import Inspection

    return Inspection.objects.filter(business=business).select_related("inspected_by").order_by("-inspected_at")


@dataclass
class Figures:
    businesses: int
    expiring: int
    expired: int
    open_cases: int
    inspections_this_month: int


def figures(staff, today: date | None = None) -> Figures:
    """The widget's figures for the caller's scope, in three queries."""
    from .models import Inspection

    today = today or timezone.localdate()
    soon = today + timedelta(days=EXPIRING_DAYS)
    businesses = businesses_for(staff)
    counts = businesses.aggregate(
        total=Count("pk"),
        expiring=Count("pk", filter=Q(licence__expires_on__gte=today, licence__expires_on__lte=soon)),
        expired=Count("pk", filter=Q(licence__expires_on__lt=today)))
    open_cases = Case.objects.filter(
        pk__in=FoodCase.objects.filter(business__in=businesses).values("case_id"),
        status__in=OPEN_STATUSES).count()
    month_start = timezone.make_aware(datetime(today.year, today.month, 1))
    inspections = Inspection.objects.filter(business__in=businesses, inspected_at__gte=month_start).count()
    return Figures(counts["total"], counts["expiring"], counts["expired"], open_cases, inspections)


def inspections_for(staff) -> QuerySet:
    """The inspections of the businesses ``staff`` may see."""
    from .models import Inspection

    if not may_view(staff):
        return Inspection.objects.none()
    area = area_filter(staff, "business__grid")
    return Inspection.objects.all() if area is None else Inspection.objects.filter(area)


def inspection_for(staff, pk):
    from .models import Inspection

    try:
        return inspections_for(staff).select_related("business", "grid", "inspected_by").get(pk=pk)
    except (Inspection.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def results_of(inspection) -> list:
    """The answers, each with its finding (and the finding's case) when it failed."""
    from .models import Finding

    rows = list(inspection.results.order_by("id"))
    findings = {f.found_id: f for f in Finding.objects.filter(found__in=rows).select_related("case")}
    for row in rows:
        row.found_finding = findings.get(row.pk)
    return rows


def open_findings(business) -> list:
    from .models import Finding

    return list(Finding.objects.filter(business=business, status=Finding.Status.OPEN).select_related("item", "case"))


def with_last_inspection(businesses: QuerySet) -> QuerySet:
    from django.db.models import Max

    from .models import Finding

    return businesses.annotate(last_inspected=Max("inspections__inspected_at"),
                               open_findings=Count("findings", filter=Q(findings__status=Finding.Status.OPEN),
                                                   distinct=True))

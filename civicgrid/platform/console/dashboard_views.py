"""Dashboards (ECharts, served locally): the period's figures over the member's visible cases,
each drilling down to its cases, every table exportable as XLSX; the early-warning flags.
Both pages only read: they read from the replica where there is one (``replica_reads``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.cases.early_warning import cases_behind
from civicgrid.platform.cases.models import EarlyWarning
from civicgrid.platform.cases.selectors import cases_for
from civicgrid.platform.cases.statistics import Period, dashboard, last_days
from civicgrid.platform.files.spreadsheets import tables_xlsx_response
from civicgrid.tenants.replicas import replica_reads

DASHBOARD_ROLES = tuple(r for r in StaffRole.values if r not in (StaffRole.GRID_WORKER, StaffRole.COMMUNITY_EDITOR))
PERIODS = {"7": 7, "30": 30, "90": 90, "365": 365}
TABLES = [
    ("volume", gettext_lazy("Cases per day")),
    ("by_category", gettext_lazy("By kind of problem")),
    ("by_source", gettext_lazy("By source")),
    ("by_grid", gettext_lazy("Busiest grids")),
    ("top_problems", gettext_lazy("Most frequent problems")),
    ("lights", gettext_lazy("Open cases by light now")),
]
LIGHT_LABELS = {"red": gettext_lazy("Overdue"), "yellow": gettext_lazy("Due soon"), "green": gettext_lazy("On time")}


def _period(request) -> tuple[Period, str]:
    chosen = request.GET.get("days", "30")
    chosen = chosen if chosen in PERIODS else "30"
    return last_days(PERIODS[chosen]), chosen


def _with_links(figures: dict, period: Period) -> dict:
    """Every row gets the address of the case list showing its cases."""
    base = reverse("case-list")
    for key, _title in TABLES:
        for row in figures[key]:
            extra = {} if key == "lights" else period.filter()
            row["url"] = f"{base}?{urlencode({**extra, **row['filter']})}"
            if key == "lights":
                row["label"] = str(LIGHT_LABELS[row["label"]])
    return figures


@staff_required(*DASHBOARD_ROLES)
@replica_reads
def dashboard_page(request):
    period, chosen = _period(request)
    figures = _with_links(dashboard(request.staff, period), period)
    if request.GET.get("format") == "xlsx":
        tables = [(title, [_("Item"), _("Cases")], [(row["label"], row["value"]) for row in figures[key]])
                  for key, title in TABLES]
        handling = figures["handling"]
        tables.append((_("Handling"), [_("Figure"), _("Value")], [
            (_("Handled"), handling["handled"]), (_("Average hours to handle"), handling["average_hours"] or ""),
            (_("On-time rate (%)"), handling["on_time_rate"] or ""), (_("Rated"), handling["rated"]),
            (_("Average rating"), handling["average_rating"] or ""),
            (_("Satisfied, 4–5 (%)"), handling["satisfaction_rate"] or "")]))
        return tables_xlsx_response(tables, f"dashboard-{period.start}-{period.end}.xlsx")
    warnings = EarlyWarning.objects.select_related("category", "area").filter(
        day__gte=timezone.localdate() - (period.end - period.start))[:20] if _sees_warnings(request.staff) else []
    return render(request, "console/dashboard.html", {
        "figures": figures, "period": period, "chosen": chosen, "periods": PERIODS,
        "tables": [(key, title, figures[key]) for key, title in TABLES], "warnings": warnings,
        "chart_data": {key: figures[key] for key, _title in TABLES},
    })


def _sees_warnings(staff) -> bool:
    return staff.role in (StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR, StaffRole.AUDITOR)


@staff_required(StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR, StaffRole.AUDITOR)
@replica_reads
def warning_page(request, pk: int):
    try:
        warning = EarlyWarning.objects.select_related("category", "area").get(pk=pk)
    except EarlyWarning.DoesNotExist as exc:
        raise Http404 from exc
    cases = cases_behind(warning).filter(pk__in=cases_for(request.staff).values("pk")).order_by("-reported_at")
    page = Paginator(cases, 50).get_page(request.GET.get("page"))
    return render(request, "console/warning.html", {"warning": warning, "page": page})

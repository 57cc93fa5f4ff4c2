"""Supervision pages over the aggregates tenants publish: the province's (public host, for
provincial admins and supervisors) and a city's (the city's own host, for its county
admin, command centre and auditors; 404 on a county's host). Same table, ranking, trend,
map and export; only the scope differs (``supervision.province_scope`` / ``city_scope``).
They only read: from the replica where there is one (``replica_reads``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.platform.accounts.access import province_role_required, staff_required
from civicgrid.platform.accounts.models import ProvinceRole
from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.files.spreadsheets import tables_xlsx_response
from civicgrid.tenants.models import Tenant
from civicgrid.tenants.replicas import replica_reads

from . import supervision
from .supervision import RANKED, Supervision

CITY_ROLES = (StaffRole.COUNTY_ADMIN, StaffRole.COMMAND_OPERATOR, StaffRole.AUDITOR)
BOUNDARIES = "province/zhejiang-counties.geojson"

COLUMNS = [  # (key, label, sortable)
    ("rank", gettext_lazy("Rank"), True),
    ("name", gettext_lazy("Tenant"), True),
    ("division_code", gettext_lazy("Division code"), True),
    ("reported", gettext_lazy("Cases reported"), True),
    ("handled", gettext_lazy("Handled"), True),
    ("on_time_rate", gettext_lazy("On-time rate"), True),
    ("satisfaction_rate", gettext_lazy("Satisfaction"), True),
    ("overdue_open", gettext_lazy("Overdue open now"), True),
]


def _choices(request) -> dict:
    days = request.GET.get("days", "")
    days = int(days) if days.isdigit() and int(days) in supervision.PERIODS else supervision.DEFAULT_PERIOD
    measure = request.GET.get("measure", "")
    measure = measure if measure in RANKED else supervision.DEFAULT_MEASURE
    sort = request.GET.get("sort", "")
    sort = sort if sort.lstrip("-") in supervision.SORTABLE else supervision.DEFAULT_SORT
    return {"days": days, "measure": measure, "sort": sort, "tenant": request.GET.get("tenant", "")[:6]}


def _query(choices: dict, **changes) -> str:
    values = {**choices, **changes}
    return "?" + urlencode({key: value for key, value in values.items() if value not in ("", None)})


def _columns(choices: dict) -> list[dict]:
    current, descending = choices["sort"].lstrip("-"), choices["sort"].startswith("-")
    columns = []
    for key, label, _sortable in COLUMNS:
        # A first click sorts the way the figure reads best: names A-Z, ranks 1 up, counts and rates down.
        natural_desc = key not in ("rank", "name", "division_code")
        desc = (not descending) if key == current else natural_desc
        columns.append({
            "key": key, "label": label, "url": _query(choices, sort=("-" if desc else "") + key),
            "aria_sort": ("descending" if descending else "ascending") if key == current else "none",
        })
    return columns


def _render(request, scope, *, title: str, scope_label: str, city: Tenant | None):
    choices = _choices(request)
    figures = supervision.supervise(scope, supervision.last_days(choices["days"]), measure=choices["measure"],
                                    sort=choices["sort"], chosen_code=choices["tenant"])
    if request.GET.get("format") == "xlsx":
        return _xlsx(figures)
    for row in figures.rows:
        row.url = _query(choices, tenant=row.code) + f"#tenant-{row.code}"
    table = _table(figures)
    measure_label, higher_is_better = RANKED[figures.measure]
    chart = {
        "days": [row["day"] for row in figures.trend],
        "scope": {"reported": [row["reported"] for row in figures.trend],
                  "on_time_rate": [row["on_time_rate"] for row in figures.trend]},
        "chosen": None,
        "map": {
            "boundaries": static(BOUNDARIES),
            "city": city.division_code if city else "",
            "measure": figures.measure, "higher_is_better": higher_is_better,
            "percent": figures.measure.endswith("_rate"),
            "tenants": [{"code": row.code, "name": row.name, "value": row.value(figures.measure), "rank": row.rank,
                         "url": row.url}
                        for row in figures.rows if row.tenant.level == Tenant.Level.COUNTY],
        },
        "text": {"reported": _("Cases reported"), "on_time_rate": _("On-time rate (%)"), "scope": scope_label,
                 "measure": str(measure_label), "no_data": _("No figures"), "rank": _("Rank")},
    }
    if figures.chosen:
        chart["chosen"] = {"name": figures.chosen.name,
                           "reported": [row["reported"] for row in figures.chosen_trend],
                           "on_time_rate": [row["on_time_rate"] for row in figures.chosen_trend]}
    return render(request, "province/supervision.html", {
        "title": title, "city": city, "figures": figures, "table": table, "choices": choices,
        "columns": _columns(choices),
        "periods": [(days, _query(choices, days=days), days == choices["days"]) for days in supervision.PERIODS],
        "measures": [(key, label) for key, (label, _better) in RANKED.items()],
        "export_url": _query(choices, format="xlsx"),
        "clear_url": _query(choices, tenant=""),
        "chart_data": chart,
    })


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value}%"


def _table(figures: Supervision) -> list[dict]:
    """The table's cells as text, made here: a hundred rows of template filters (numbers,
    dates, translations per cell) cost more than the page's queries together."""
    chosen = figures.chosen.code if figures.chosen else ""
    city_word, published = _("city"), _("published %(when)s")
    table = []
    for row in figures.rows:
        when = timezone.localtime(row.published_at) if row.published_at else None
        table.append({
            "code": row.code, "name": row.name, "level": row.tenant.level, "url": row.url,
            "note": city_word if row.tenant.level == Tenant.Level.CITY else "",
            "rank": "" if row.rank is None else str(row.rank), "chosen": row.code == chosen,
            "reported": f"{row.reported:,}", "handled": f"{row.handled:,}",
            "on_time_rate": _percent(row.on_time_rate), "satisfaction_rate": _percent(row.satisfaction_rate),
            "average_rating": "" if row.average_rating is None else f"({row.average_rating})",
            "overdue_open": "—" if row.overdue_open is None else str(row.overdue_open),
            "latest_day": row.latest_day.strftime("%m-%d") if row.latest_day else "",
            "published_iso": when.isoformat() if when else "",
            "published_title": published % {"when": when.strftime("%Y-%m-%d %H:%M")} if when else "",
        })
    return table


def _xlsx(figures: Supervision):
    def cell(value):
        return "" if value is None else value

    headers = [_("Rank"), _("Tenant"), _("Division code"), _("Level"), _("Cases reported"), _("Cases accepted"),
               _("Cases accepted on time"), _("Handled"), _("Cases handled on time"), _("On-time rate (%)"), _("Closed"),
               _("Rated"), _("Satisfied, 4–5 (%)"), _("Average rating"), _("Overdue open now"), _("Latest day")]
    rows = [[cell(row.rank), row.name, row.code, row.tenant.get_level_display(), row.reported, row.accepted,
             row.accepted_on_time, row.handled, row.handled_on_time, cell(row.on_time_rate), row.closed, row.rated,
             cell(row.satisfaction_rate), cell(row.average_rating), cell(row.overdue_open),
             row.latest_day.isoformat() if row.latest_day else ""] for row in figures.rows]
    period = figures.period
    return tables_xlsx_response([(_("Ranking"), headers, rows)], f"supervision-{period.start}-{period.end}.xlsx")


@province_role_required(ProvinceRole.PROVINCIAL_ADMIN, ProvinceRole.PROVINCIAL_SUPERVISOR)
@replica_reads
def province_page(request):
    return _render(request, supervision.province_scope(), title=_("Province supervision"),
                   scope_label=_("whole province"), city=None)


def city_page(request):
    # Only a city's host has this page: on a county's it is missing for everyone.
    if getattr(request.tenant, "level", None) != Tenant.Level.CITY:
        raise Http404
    return _city_page(request)


@staff_required(*CITY_ROLES)
@replica_reads
def _city_page(request):
    city = request.tenant
    return _render(request, supervision.city_scope(city), title=_("%(city)s: county supervision") % {"city": city.name},
                   scope_label=city.name, city=city)

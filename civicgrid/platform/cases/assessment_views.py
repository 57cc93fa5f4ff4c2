"""Console pages of assessment: the scores of a period in up to three tables
(departments, townships, grid workers — those the role may see), every figure a
link to the cases behind it, and the weights form for county admins.

The tables are computed without their case lists; following a figure computes
that one unit again with its cases, so a month of a busy county stays one page.
"""

from __future__ import annotations

from fractions import Fraction
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.files.spreadsheets import tables_xlsx_response

from . import assessment
from .assessment import DEFAULT_WEIGHTS, KINDS, LABELS, MEASURES, PENALTIES, RATES, Measure, Period
from .assessment_actions import set_weights

TITLES = {
    assessment.DEPARTMENTS: gettext_lazy("Departments"),
    assessment.TOWNSHIPS: gettext_lazy("Townships and streets"),
    assessment.GRID_WORKERS: gettext_lazy("Grid workers"),
}


@staff_required()
def page(request):
    units = assessment.visible_units(request.staff)
    if not units:
        raise Http404
    period_errors = []
    try:
        period = Period.parse(request.GET.get("start"), request.GET.get("end"))
    except ValidationError as exc:
        period_errors, period = exc.messages, Period.this_month()
    weights = assessment.current_weights()
    tables = [_table(request, kind, period, weights) for kind in KINDS if kind in units]
    if request.GET.get("format") == "xlsx" and not period_errors:
        return tables_xlsx_response([
            (table["title"], [_("Rank"), _("Name"), *table["headers"], _("Score")],
             [(line["rank"] or "", line["row"].name, *[cell["shown"] for cell in line["cells"]], line["score"])
              for line in table["rows"]])
            for table in tables], f"assessment-{period.start}-{period.end}.xlsx")
    this_month = Period.this_month()
    return render(request, "cases/assessment/page.html", {
        "period": period, "period_errors": period_errors, "tables": tables,
        "detail": _detail(request, units, period, weights),
        "this_month": this_month, "last_month": _previous(this_month),
        "weights": [(str(LABELS[m]), m, weights[m], m in PENALTIES) for m in DEFAULT_WEIGHTS],
        "may_change_weights": request.staff.role == StaffRole.COUNTY_ADMIN,
    })


def _previous(period: Period) -> Period:
    start = period.start
    first = start.replace(year=start.year - 1, month=12) if start.month == 1 else start.replace(month=start.month - 1)
    return Period(first, start)


def _table(request, kind, period, weights) -> dict:
    rows = assessment.assess(request.staff, kind, period, weights=weights, with_cases=False)
    # Ranked: best score first, units with nothing to judge last.
    rows.sort(key=lambda row: (row.score is None, -(row.score or 0)))
    metrics = MEASURES[kind]
    return {
        "kind": kind, "title": TITLES[kind], "headers": [LABELS[m] for m in metrics],
        "rows": [{
            "rank": _rank(rows, index), "row": row, "score": _number(row.score), "penalty": _number(row.penalty),
            "cells": [_cell(row.measures[m], _detail_url(period, kind, row.key, m)) for m in metrics],
        } for index, row in enumerate(rows)],
    }


def _rank(rows, index: int) -> int | None:
    """1, 2, 2, 4 …: equal scores share a place; units with nothing to judge have none."""
    if rows[index].score is None:
        return None
    first = index
    while first > 0 and rows[first - 1].score == rows[index].score:
        first -= 1
    return first + 1


def _detail_url(period: Period, kind: str, key: str, metric: str) -> str:
    query = urlencode({"start": period.start, "end": period.end, "kind": kind, "key": key, "metric": metric})
    return f"{reverse('assessment:assessment-page')}?{query}#cases"


def _cell(measure: Measure, url: str) -> dict:
    if measure.metric in RATES:
        shown = f"{_number(measure.value)}%" if measure.value is not None else "—"
        numerator = measure.count - measure.hits if measure.metric == "reopen_rate" else measure.hits
        note = f"{numerator}/{measure.count}"
    elif measure.metric == "satisfaction":
        shown = _number(measure.value) if measure.value is not None else "—"
        note = _("%(count)d rated") % {"count": measure.count}
    else:
        shown, note = str(measure.count), ""
        if measure.is_penalty and measure.count:
            note = _("−%(points)s points") % {"points": _number(measure.points)}
    if not measure.count:
        note = ""
    return {"shown": shown, "note": note, "url": url if measure.count else "", "metric": measure.metric}


def _number(value: Fraction | None) -> str:
    figure = assessment.two_places(value)
    return "—" if figure is None else f"{figure:.2f}"


def _detail(request, units, period, weights) -> dict | None:
    """The cases behind one figure: ``kind``, ``key`` (unit) and ``metric`` in the query."""
    kind, key, metric = (request.GET.get(name) for name in ("kind", "key", "metric"))
    if not (kind or key or metric):
        return None
    if kind not in units or metric not in MEASURES[kind] or not key:
        raise Http404
    rows = assessment.assess(request.staff, kind, period, key=key, weights=weights)
    if not rows:
        raise Http404
    measure = rows[0].measures[metric]
    return {"row": rows[0], "measure": measure, "label": LABELS[metric], "kind_title": TITLES[kind],
            "cell": _cell(measure, ""), "column": _column(metric),
            "cases": [{**ref, "url": f"/cases/{ref['id']}/", "mark": _mark(metric, ref)} for ref in measure.cases]}


# What "counted in favour" means for each rate, said in its own words.
MARKS = {
    "on_time_acceptance": (gettext_lazy("on time"), gettext_lazy("late")),
    "on_time_handling": (gettext_lazy("on time"), gettext_lazy("late")),
    "reopen_rate": (gettext_lazy("stayed closed"), gettext_lazy("reopened")),
    "accepted_share": (gettext_lazy("accepted"), gettext_lazy("rejected or merged")),
}


def _mark(metric: str, ref: dict) -> str:
    if ref.get("rating") is not None:
        return f"{ref['rating']}/5"
    if ref.get("ok") is None or metric not in MARKS:
        return ""
    return str(MARKS[metric][0 if ref["ok"] else 1])


def _column(metric: str) -> str:
    if metric == "satisfaction":
        return _("Rating")
    return _("Counted") if metric in RATES else ""


@staff_required(StaffRole.COUNTY_ADMIN)
def weights(request):
    current = assessment.current_weights()
    values = {metric: str(value) for metric, value in current.items()}
    errors = {}
    if request.method == "POST":
        posted = {metric: request.POST.get(metric, "").strip() for metric in DEFAULT_WEIGHTS
                  if metric in request.POST}
        values.update(posted)
        try:
            set_weights(staff=request.staff, weights=posted)
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, _("The weights are saved; scores use them from now on."))
            return redirect("assessment:assessment-page")
    return render(request, "cases/assessment/weights.html", {
        "fields": [{"metric": m, "label": LABELS[m], "value": values[m], "default": DEFAULT_WEIGHTS[m],
                    "penalty": m in PENALTIES, "errors": errors.get(m, [])} for m in DEFAULT_WEIGHTS],
        "errors": errors.get("weights", []),
    })

"""平安通, the grid worker's phone app at /m/: my grid, reporting (also offline), my tasks,
household visits; installable as a web app (manifest, service worker).

Pages for grid workers only (anyone else: 404, like a page that does not exist). Reads
come from the selectors, writes from the actions: ``cases.actions.report_case`` (the case
and its photos), ``registry.actions.record_household_visit``.

A report made offline waits in the phone (IndexedDB, ``worker/app.js``) and is sent to
``reports`` with its own key in the ``Idempotency-Key`` header, as often as it takes:
the first request that arrives makes the case, every later one answers with that case.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from functools import cache

from django.contrib import messages
from django.contrib.staticfiles import finders
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from shapely.geometry import shape

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.accounts.staff.models import StaffRole
from civicgrid.platform.cases import actions as case_actions
from civicgrid.platform.cases import selectors
from civicgrid.platform.cases.forms import ReportForm
from civicgrid.platform.cases.models import Case, Source
from civicgrid.platform.cases.queues import light_counts, queue_for, queue_rows
from civicgrid.platform.registry import actions as registry_actions
from civicgrid.platform.registry.models import Household
from civicgrid.platform.registry.selectors import access, head_count_in_grid, households_to_visit, visits_for
from civicgrid.plugins.manager import tenant_hooks

from .worker_forms import VisitForm

worker_only = staff_required(StaffRole.GRID_WORKER)

TASKS_SHOWN = 100
HOUSEHOLDS_PAGE = 30
PINS_SHOWN = 200
# What the service worker keeps for offline use: the app's own files and the two pages a
# report needs. Lists of cases and households stay on the server (personal data).
SHELL_ASSETS = ("console/worker/app.css", "console/worker/app.js", "console/worker/icon-192.png",
                "console/worker/icon-512.png")
SHELL_PAGES = ("worker-app", "worker-report")
# A key the phone made (a UUID); anything else is refused before it reaches the action.
CLIENT_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


# --- the pages -------------------------------------------------------------------------------


@worker_only
def app_home(request):
    """My grid: its name, its outline with the open cases, three counts and the way in."""
    staff = request.staff
    grid = staff.scope_org_unit
    now = timezone.now()
    queue = queue_for(staff, now=now)
    month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    pins = list(queue.filter(latitude__isnull=False, longitude__isnull=False)
                .values_list("latitude", "longitude", "light")[:PINS_SHOWN])
    return render(request, "console/worker/home.html", {
        "grid": grid,
        "people": head_count_in_grid(grid) if grid else 0,
        "counts": light_counts(queue),
        "my_reports": selectors.cases_for(staff).filter(reporter=request.user, reported_at__gte=month_start).count(),
        "grid_map": grid_map(grid, pins) if grid else None,
        "plugin_entries": tenant_hooks(connection.tenant).collect("civicgrid_phone_entries", staff=staff),
    })


@worker_only
def report_page(request):
    """The report form. With the script, it is sent to ``reports`` (or kept until the phone
    is online); without it, it posts here like any form."""
    staff = request.staff
    form = ReportForm(request.POST or None, request.FILES or None, staff=staff)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                case = _report(request, form, client_key="")
            except ValidationError as problems:
                form.add_action_errors(_message_dict(problems))
            else:
                messages.success(request, _("Case %(number)s is reported.") % {"number": case.number})
                return redirect("worker-app")
        status = 400
    grid = staff.scope_org_unit
    return render(request, "console/worker/report.html", {
        "form": form, "grid_map": grid_map(grid, []) if grid else None,
        "photos_dropped": status == 400 and bool(request.FILES.getlist("photos")),
    }, status=status)


@worker_only
@require_POST
def reports(request):
    """A report from the phone's script, as JSON. The ``Idempotency-Key`` header names the
    report: 201 with the new case the first time, 200 with the same case every later time,
    400 with the problems per field (nothing stored)."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not CLIENT_KEY.fullmatch(key):
        return JsonResponse({"errors": {"__all__": [_("The report carries no valid key; it was not stored.")]}},
                            status=400)
    # Before the form: a report that was stored while its answer got lost is answered as it
    # was, even if the form would judge it differently now (a category switched off since).
    earlier = selectors.reported_with_key(request.user, key)
    if earlier is not None:
        return _case_answer(request, earlier, status=200)
    form = ReportForm(request.POST, request.FILES, staff=request.staff)
    if not form.is_valid():
        return JsonResponse({"errors": _errors(form.errors)}, status=400)
    try:
        case = _report(request, form, client_key=key)
    except ValidationError as problems:
        return JsonResponse({"errors": _errors(_message_dict(problems))}, status=400)
    return _case_answer(request, case, status=200 if case.replayed else 201)


@worker_only
def tasks(request):
    """My queue: what is open in my grid, red first."""
    queue = queue_for(request.staff, now=timezone.now())
    rows = queue_rows(queue, stop=TASKS_SHOWN)
    counts = light_counts(queue)
    return render(request, "console/worker/tasks.html", {"rows": rows, "counts": counts,
                                                         "more": max(0, counts["total"] - len(rows))})


@worker_only
def households(request):
    """My grid's households, the longest unvisited first, and my latest visits."""
    staff = request.staff
    rows = households_to_visit(staff)
    text = request.GET.get("q", "").strip()[:60]
    if text:
        rows = rows.filter(Q(number__icontains=text) | Q(address__icontains=text))
    page = Paginator(rows, HOUSEHOLDS_PAGE).get_page(request.GET.get("page"))
    return render(request, "console/worker/households.html", {
        "page": page, "searching": text,
        "recent": visits_for(staff).filter(visited_by=request.user)[:10],
    })


@worker_only
def household(request, pk: int):
    """One household: record a visit, see the visits before."""
    staff = request.staff
    home = access(staff, Household, pk)
    form = VisitForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                registry_actions.record_household_visit(staff=staff, household=home, note=data["note"],
                                                        latitude=data["latitude"], longitude=data["longitude"])
            except ValidationError as problems:
                for field, problem in _message_dict(problems).items():
                    form.add_error(field if field in form.fields else None, problem)
            else:
                messages.success(request, _("The visit to %(household)s is recorded.") % {"household": home.number})
                return redirect("worker-household", pk=home.pk)
        status = 400
    return render(request, "console/worker/household.html", {
        "household": home, "form": form, "members": home.members.count(),
        "visits": visits_for(staff).filter(household=home)[:20],
    }, status=status)


# --- installing: the manifest and the service worker -------------------------------------


@worker_only
@require_GET
def manifest(request):
    name = _("Safe Grid app")
    return JsonResponse({
        "name": f"{name} · {request.tenant.name}",
        "short_name": name,
        "description": _("Report, follow your tasks and log household visits in your grid, also offline."),
        "lang": request.LANGUAGE_CODE,
        "start_url": reverse("worker-app"),
        "scope": reverse("worker-app"),
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f4f6f8",
        "theme_color": "#1d4f91",
        "icons": [
            {"src": static("console/worker/icon-192.png"), "sizes": "192x192", "type": "image/png",
             "purpose": "any maskable"},
            {"src": static("console/worker/icon-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "any maskable"},
        ],
    }, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


@worker_only
@require_GET
@never_cache
def service_worker(request):
    """Served from /m/ so that its scope is /m/ without a Service-Worker-Allowed header."""
    return render(request, "console/worker/sw.js", {
        "version": shell_version(),
        "assets": json.dumps([static(path) for path in SHELL_ASSETS]),
        "pages": json.dumps([reverse(name) for name in SHELL_PAGES]),
        "home": json.dumps(reverse("worker-app")),
    }, content_type="application/javascript; charset=utf-8")


@cache
def shell_version() -> str:
    """Changes with any file of the shell, so phones fetch the new one (the script's bytes change)."""
    digest = hashlib.sha256()
    for path in SHELL_ASSETS:
        found = finders.find(path)
        if found:
            with open(found, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()[:12]


# --- helpers -------------------------------------------------------------------------------


def _report(request, form: ReportForm, *, client_key: str) -> Case:
    """The case with its photos (the action stores both or neither; a report it recognises
    by its key gets no second copy of its photos)."""
    data = form.cleaned_data
    return case_actions.report_case(
        staff=request.staff, category=data["category"], title=data["title"], description=data["description"],
        source=Source.GRID_WORKER, latitude=data["latitude"], longitude=data["longitude"],
        address=data["address"], urgency=data["urgency"], actor=request.user, client_key=client_key,
        photos=data["photos"])


def _case_answer(request, case: Case, *, status: int) -> JsonResponse:
    visible = selectors.cases_for(request.staff).filter(pk=case.pk).exists()
    return JsonResponse({
        "number": case.number, "title": case.title, "replayed": status == 200,
        "url": reverse("case-detail", kwargs={"pk": case.pk}) if visible else None,
        "message": _("Case %(number)s is reported.") % {"number": case.number},
    }, status=status, json_dumps_params={"ensure_ascii": False})


def _message_dict(error: ValidationError) -> dict:
    return error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}


def _errors(errors) -> dict[str, list[str]]:
    return {field: [str(message) for message in messages_] for field, messages_ in errors.items()}


def grid_map(grid, pins) -> dict | None:
    """The grid's outline and pins as SVG in user units x = longitude × k, y = −latitude
    (k = cos of the middle latitude, so squares stay square); a tap maps back by the same
    rule (``app.js``). No tiles: nothing leaves the server."""
    try:
        outline = shape(grid.boundary) if grid.boundary else None
    except Exception:  # a broken boundary leaves the page without a map, not without a page
        outline = None
    if outline is None or outline.is_empty:
        return None
    min_x, min_y, max_x, max_y = outline.bounds
    k = math.cos(math.radians((min_y + max_y) / 2))
    pad = 0.08 * max((max_x - min_x) * k, max_y - min_y)
    paths = []
    for piece in getattr(outline, "geoms", [outline]):
        for ring in [piece.exterior, *piece.interiors]:
            paths.append("M" + " L".join(f"{x * k:.7f} {-y:.7f}" for x, y, *_ in ring.coords[:-1]) + " Z")
    size = max((max_x - min_x) * k, max_y - min_y) + 2 * pad
    return {
        "view_box": f"{min_x * k - pad:.7f} {-max_y - pad:.7f} {(max_x - min_x) * k + 2 * pad:.7f} "
                    f"{max_y - min_y + 2 * pad:.7f}",
        "d": " ".join(paths), "k": f"{k:.9f}", "radius": f"{size / 45:.7f}",
        "pins": [{"x": f"{lng * k:.7f}", "y": f"{-lat:.7f}", "light": light} for lat, lng, light in pins],
    }

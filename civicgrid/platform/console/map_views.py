"""The grid map: the county's grids from their GeoJSON on a blank base (no tiles from the
internet), open cases as pins coloured by light, a density layer by category, and a
grid's card (its workers, its head count, its open cases)."""

from __future__ import annotations

import json
import logging

from django.core.cache import cache
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from civicgrid.platform.accounts.access import staff_required
from civicgrid.platform.cases.forms import category_label
from civicgrid.platform.cases.geography import density_by_grid, open_case_points, open_cases_in_grid
from civicgrid.platform.cases.models import Category
from civicgrid.platform.org.geo import grids_version
from civicgrid.platform.org.models import OrgUnit
from civicgrid.platform.org.selectors import grid_feature_collection, grid_workers, grids_for
from civicgrid.platform.registry.selectors import head_count_in_grid

logger = logging.getLogger(__name__)


def _category(request) -> str:
    code = request.GET.get("category", "")[:40]
    return code if code and Category.objects.filter(code=code).exists() else ""


@staff_required()
def map_page(request):
    categories = Category.objects.filter(is_active=True, parent__isnull=True).order_by("code")
    return render(request, "console/map.html", {
        "categories": [(category.code, category_label(category)) for category in categories],
        "chosen": _category(request),
    })


GRIDS_CACHE_SECONDS = 600


@staff_required()
def grids_geojson(request):
    """Two thousand boundaries change rarely: the drawn collection is kept per grids version and
    per scope (the cache's keys carry the schema), and made again when a boundary changes."""
    staff = request.staff
    version = grids_version()
    key = None if version is None else (
        f"console:map:grids:{version}:{staff.role}:{staff.scope_kind}:{staff.scope_org_unit_id}:"
        f"{staff.scope_department_id}")
    body = _cached(key)
    if body is None:
        body = json.dumps(grid_feature_collection(staff), ensure_ascii=False, separators=(",", ":")).encode()
        _keep(key, body)
    return HttpResponse(body, content_type="application/json")


def _cached(key):
    if key is None:
        return None
    try:
        return cache.get(key)
    except Exception:  # Redis down: draw them again
        logger.warning("map: the cache is unreachable", exc_info=True)
        return None


def _keep(key, body: bytes) -> None:
    if key is None:
        return
    try:
        cache.set(key, body, GRIDS_CACHE_SECONDS)
    except Exception:
        logger.warning("map: the cache is unreachable", exc_info=True)


@staff_required()
def cases_geojson(request):
    return JsonResponse(open_case_points(request.staff, category_code=_category(request)))


@staff_required()
def density(request):
    return JsonResponse({"days": 30, "counts": density_by_grid(request.staff, category_code=_category(request))})


@staff_required()
def grid_card(request, code: str):
    """What clicking a grid shows: no personal data, only names of the staff and counts."""
    try:
        grid = grids_for(request.staff).get(code=code)
    except OrgUnit.DoesNotExist as exc:
        raise Http404 from exc
    open_cases = open_cases_in_grid(request.staff, grid.path)
    return JsonResponse({
        "code": grid.code,
        "name": grid.name,
        "area": grid.parent.name if grid.parent_id else "",
        "workers": [member.user.get_full_name() for member in grid_workers(grid)],
        "people": head_count_in_grid(grid),
        "open_cases": open_cases.count(),
        "cases_url": f"{reverse('case-list')}?grid={grid.code}",
        "labels": {"workers": _("Grid workers"), "people": _("People registered"), "open": _("Open cases"),
                   "none": _("none"), "list": _("Show its cases")},
    })

"""Cases on the map: open cases as points coloured by light, and counts per grid by category.
Scoped to the actor like every case read (``selectors.cases_for``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from civicgrid.platform.accounts.staff.models import StaffProfile

from .lights import with_lights
from .models import OPEN_STATUSES, Case
from .selectors import cases_for

MAX_POINTS = 3000  # the newest open cases; the list and the density layer cover the rest
DENSITY_DAYS = 30


def _by_category(cases: QuerySet[Case], category_code: str) -> QuerySet[Case]:
    """A category code covers its leaves (a top-level kind and every leaf under it)."""
    if not category_code:
        return cases
    return cases.filter(Q(category__code=category_code) | Q(category__parent__code=category_code))


def open_case_points(staff: StaffProfile, *, category_code: str = "", now: datetime | None = None) -> dict:
    """A GeoJSON FeatureCollection of the open cases with a position."""
    cases = _by_category(cases_for(staff), category_code).filter(
        status__in=OPEN_STATUSES, latitude__isnull=False, longitude__isnull=False)
    rows = (with_lights(cases, now).order_by("-reported_at")
            .values_list("pk", "number", "title", "latitude", "longitude", "light", "status")[:MAX_POINTS])
    detail = reverse("case-detail", args=[0]).rstrip("0/")
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(lng, 6), round(lat, 6)]},
         "properties": {"number": number, "title": title, "light": light, "status": status,
                        "url": f"{detail}{pk}/"}}
        for pk, number, title, lat, lng, light, status in rows]}


def density_by_grid(staff: StaffProfile, *, category_code: str = "", days: int = DENSITY_DAYS,
                    now: datetime | None = None) -> dict[str, int]:
    """{grid code: cases reported in the last ``days``} for the visible cases."""
    since = (now or timezone.now()) - timedelta(days=days)
    cases = _by_category(cases_for(staff), category_code).filter(reported_at__gte=since, grid__isnull=False)
    return dict(cases.order_by().values_list("grid__code").annotate(n=Count("pk")).values_list("grid__code", "n"))


def open_cases_in_grid(staff: StaffProfile, grid_path: str) -> QuerySet[Case]:
    return cases_for(staff).filter(status__in=OPEN_STATUSES, org_path__startswith=grid_path)

"""Case search for a staff member: the backend's hits, loaded through the case
selectors (so a hit the asker may not see is dropped even if the index were
wrong), with highlights, facet counts and suggestions.

When the backend cannot answer, ``search_cases`` records the failure and raises
``SearchUnavailable``: the console and the API then fall back to their database
filter and say that search is degraded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from civicgrid.platform.accounts.staff.models import StaffProfile
from civicgrid.platform.cases import lights
from civicgrid.platform.cases.models import Case
from civicgrid.platform.cases.selectors import cases_for, scope_of

from . import health, suggest
from .backends import backend
from .query import SearchFilters, SearchRequest, SearchUnavailable

# Fewer hits than this and the page offers "did you mean".
SUGGEST_BELOW = 3

__all__ = ["FoundCase", "SearchPage", "SearchUnavailable", "search_cases"]


@dataclass
class FoundCase:
    case: Case  # with ``light`` annotated
    score: float
    highlight: dict[str, str]


@dataclass
class SearchPage:
    found: list[FoundCase]
    total: int
    total_is_exact: bool = True  # else "more than ``total``"
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestions: list[str] = field(default_factory=list)


def search_cases(staff: StaffProfile, text: str, filters: SearchFilters | None = None, *, offset: int = 0,
                 limit: int = 20, facets: bool = True, now=None) -> SearchPage:
    from django.db import connection

    now = now or timezone.now()
    request = SearchRequest(text=text, scope=scope_of(staff), filters=filters or SearchFilters(), now=now,
                            offset=offset, limit=limit, facets=facets)
    try:
        result = backend().search(connection.schema_name, request)
    except SearchUnavailable as exc:
        health.record_failure(str(exc))
        raise
    visible = lights.with_lights(cases_for(staff), now).in_bulk([hit.case_id for hit in result.hits])
    found = [FoundCase(case=visible[hit.case_id], score=hit.score, highlight=hit.highlight)
             for hit in result.hits if hit.case_id in visible]
    hints = suggest.suggestions(text) if result.total < SUGGEST_BELOW else []
    return SearchPage(found=found, total=result.total, facets=result.facets, suggestions=hints,
                      total_is_exact=result.total_is_exact)


@dataclass
class FacetValue:
    value: str  # what the filter of the same name takes back
    label: str
    count: int


def labelled_facets(facets: dict[str, dict[str, int]]) -> dict[str, list[FacetValue]]:
    """Facet counts with names for people, most frequent first; department ids become the
    department codes the filters take."""
    from civicgrid.platform.cases.calendar import Light
    from civicgrid.platform.cases.models import Category, Source, Status
    from civicgrid.platform.org.models import Department

    categories = dict(Category.objects.filter(code__in=list(facets.get("category", {}))).values_list("code", "name"))
    departments = {str(pk): (code, name) for pk, code, name in Department.objects.filter(
        pk__in=[int(v) for v in facets.get("department", {}) if v.isdigit()]).values_list("pk", "code", "name")}
    names = {"status": dict(Status.choices), "source": dict(Source.choices), "category": categories,
             "light": {light.value: light.label for light in Light}}
    out: dict[str, list[FacetValue]] = {}
    for facet, counts in facets.items():
        values = []
        for value, count in counts.items():
            if facet == "department":
                code, label = departments.get(value, (value, value))
                values.append(FacetValue(code, label, count))
            else:
                values.append(FacetValue(value, str(names.get(facet, {}).get(value, value)), count))
        out[facet] = sorted(values, key=lambda v: (-v.count, v.label))
    return out

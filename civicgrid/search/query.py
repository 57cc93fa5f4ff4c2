"""What a search asks and what it answers, the same for every backend.

A ``SearchRequest`` carries the words, the filters and the asker's scope as plain
terms (no querysets), so the PostgreSQL and the Elasticsearch backend read one
description; ``selectors.search_cases`` builds it from a staff member and the
filters of the console or the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from civicgrid.platform.cases.selectors import CaseScope

# Facets counted beside every result list, in the order pages show them.
FACETS = ("status", "category", "source", "department", "light")
LIGHTS = ("green", "yellow", "red")


@dataclass(frozen=True)
class SearchFilters:
    statuses: tuple[str, ...] = ()
    category: str = ""  # a leaf's code, or a group's code (its whole subtree)
    source: str = ""
    urgency: str = ""
    department_id: int | None = None
    org_path: str = ""  # the grid or area: its whole subtree
    reporter_id: int | None = None  # "my reports"
    light: str = ""  # open cases with this light now
    reported_after: datetime | None = None
    reported_before: datetime | None = None


@dataclass(frozen=True)
class SearchRequest:
    text: str
    scope: CaseScope
    filters: SearchFilters = field(default_factory=SearchFilters)
    now: datetime | None = None  # lights are read at this moment
    offset: int = 0
    limit: int = 20
    facets: bool = True


@dataclass
class Hit:
    case_id: int
    score: float
    # Escaped HTML with the query's words in <mark>: "title" always, "text" where the body matched.
    highlight: dict[str, str] = field(default_factory=dict)


@dataclass
class SearchResult:
    hits: list[Hit]
    total: int  # the matches counted; when not exact, at least this many
    # facet → {value: count}; values are raw keys (status codes, category codes, department ids, lights).
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    suggestions: list[str] = field(default_factory=list)
    # False when the matches were too many to count: ``total`` is then a lower bound (the
    # PostgreSQL backend reads the newest 5,000 matches; facets count those).
    total_is_exact: bool = True


class SearchUnavailable(Exception):
    """The backend could not answer (down, timed out, refused): callers fall back to the database."""

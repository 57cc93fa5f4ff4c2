"""The HTTP figures each web and ws process keeps (``ObserveRequestsMiddleware`` writes them).

Labels are bounded: the URL pattern's name (a few hundred at most), a method from a short
list, a status class, a tenant's schema (one per city and county). Never a path, whose ids and
query strings would make a series per case or per person.

Under gunicorn each worker writes its figures to a file of its own in
``PROMETHEUS_MULTIPROC_DIR`` and a scrape merges them (``config/gunicorn.py``); a worker that is
replaced leaves its counts behind, so totals never go back.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUESTS = Counter(
    "civicgrid_http_requests", "HTTP requests answered, by method, route name and status class.",
    ["method", "route", "status"])
TENANT_REQUESTS = Counter(
    "civicgrid_http_tenant_requests", "HTTP requests answered, by tenant schema and status class "
    "(\"none\": a host no tenant answers on).", ["tenant", "status"])
LATENCY = Histogram(
    "civicgrid_http_request_duration_seconds", "Time from the first middleware to the answer, by route name.",
    ["route"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
IN_PROGRESS = Gauge(
    "civicgrid_http_requests_in_progress", "HTTP requests being answered now (summed over live processes).",
    multiprocess_mode="livesum")


def method_label(method: str | None) -> str:
    return method if method in METHODS else "other"


def status_label(status: int) -> str:
    return f"{status // 100}xx"

"""Counting and timing requests, and answering ``/metrics``.

``ObserveRequestsMiddleware`` is the first middleware, so its figures cover every answer,
an unknown host's 404 and a 503 included. It also starts the request's log context (its id,
then its tenant and route once resolved), which lasts until ``request_finished``: Django writes
its "Not Found: …" line after every middleware has answered. ``MetricsEndpointMiddleware`` comes before the
tenant is resolved from the host: Prometheus names a pod by its address (``10.0.3.7:8000``)
and sends that as the Host, which no tenant answers on. It answers only

- ``GET /metrics`` with ``Authorization: Bearer <CIVICGRID_METRICS_TOKEN>`` (compared in
  constant time; a token shorter than ``MIN_TOKEN_LENGTH`` counts as none), and
- on the province's host or a host no tenant answers on, never on a city's, county's or
  community site's host.

Anything else goes on as if this middleware were not there: no token set, a wrong or missing
token, a tenant's host all get the 404 any unknown path gets, and learn nothing.
"""

from __future__ import annotations

import hmac
import time

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpResponse
from django.http.request import split_domain_port
from prometheus_client import CONTENT_TYPE_LATEST

from civicgrid.tenants.hosts import tenant_for_host
from civicgrid.tenants.models import Domain
from civicgrid.tenants.selectors import PUBLIC_SCHEMA

from . import logs
from .exposition import render
from .metrics import IN_PROGRESS, LATENCY, REQUESTS, TENANT_REQUESTS, method_label, status_label

PATH = "/metrics"
MIN_TOKEN_LENGTH = 32
ROUTE = "metrics"  # the route label of the answers this middleware gives itself


def route_of(request) -> str:
    """The URL pattern's name (``cases:case-detail``), never the path: bounded, and no ids."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or "unnamed"
    return getattr(request, "monitoring_route", "unmatched")


def tenant_of(request) -> str:
    tenant = getattr(request, "tenant", None)
    return tenant.schema_name if tenant is not None else "none"


request_finished.connect(logs.end_request, dispatch_uid="civicgrid.monitoring.end_request")


class ObserveRequestsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request.request_id = logs.request_id_from(request.headers.get("X-Request-ID"))
        logs.start_request(request.request_id)  # until request_finished (logs.end_request)
        IN_PROGRESS.inc()
        try:
            response = self.get_response(request)
        finally:
            IN_PROGRESS.dec()
        route, status = route_of(request), status_label(response.status_code)
        REQUESTS.labels(method_label(request.method), route, status).inc()
        TENANT_REQUESTS.labels(tenant_of(request), status).inc()
        LATENCY.labels(route).observe(time.perf_counter() - started)
        response.headers.setdefault("X-Request-ID", request.request_id)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        # By now the host's tenant and the URL's route are known; lines logged from here on say so.
        logs.describe_request(tenant=tenant_of(request), route=route_of(request))


class MetricsEndpointMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == PATH and request.method == "GET" and token_given(request) and not_a_tenants_host(request):
            request.monitoring_route = ROUTE
            return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
        return self.get_response(request)


def token_given(request) -> bool:
    expected = settings.CIVICGRID_METRICS_TOKEN
    if len(expected) < MIN_TOKEN_LENGTH:  # unset, or too short to be a secret: nobody is let in
        return False
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected.encode())


def not_a_tenants_host(request) -> bool:
    """The province's host, or one no tenant answers on (a pod's address, a service name)."""
    domain, _port = split_domain_port(request._get_raw_host())
    if not domain:  # not a host name at all
        return False
    try:
        return tenant_for_host(domain).schema_name == PUBLIC_SCHEMA
    except Domain.DoesNotExist:
        return True

"""Open311 GeoReport v2 for this tenant, at ``/open311/v2/``.

Plain Django views rather than DRF: the spec fixes the wire format (its own XML,
its own error body, form-encoded POST) and DRF's negotiation, errors and session
authentication would all have to be turned off. Reads need no key (the spec says
so, and only published requests are served); POST is authenticated by api_key
alone, so it is exempt from CSRF: no cookie grants anything here.
"""

from __future__ import annotations

import hashlib
from functools import wraps

from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from civicgrid.platform.security.ratelimits import first_over

from . import present, render, selectors
from .errors import Open311Error
from .submit import submit_request

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2025-01-01T00:00:00+08:00"  # when this endpoint's behaviour last changed (for discovery)


def open311(*methods: str):
    """Answers every failure in the spec's error format, in the format asked for."""

    def decorate(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, *args, format: str | None = None, **kwargs):
            format = format or "json"
            try:
                if request.method not in methods:
                    raise Open311Error(405, _("This resource does not accept %(method)s.")
                                       % {"method": request.method})
                return view(request, *args, fmt=format, **kwargs)
            except Open311Error as problem:
                response = render.error(problem, fmt=format)
                for header, value in problem.headers.items():
                    response[header] = value
                if problem.status == 405:
                    response["Allow"] = ", ".join(methods)
                return response

        return wrapper

    return decorate


@open311("GET")
def discovery(request, *, fmt):
    base = request.build_absolute_uri("/open311/v2/")
    return render.respond({
        "changeset": CHANGESET,
        "contact": request.tenant.name,
        "key_service": _("Ask the county's command centre for an api_key."),
        "endpoints": [{"specification": SPECIFICATION, "url": base, "changeset": CHANGESET, "type": "production",
                       "formats": list(render.FORMATS_OFFERED)}],
    }, fmt=fmt, root="discovery")


@open311("GET")
def services(request, *, fmt):
    rows = [present.service_row(category) for category in selectors.services()]
    return render.respond(rows, fmt=fmt, root="services")


@open311("GET")
def service_definition(request, service_code, *, fmt):
    return render.respond(present.service_definition(selectors.service(service_code)), fmt=fmt,
                          root="service_definition")


@open311("GET", "POST")
def service_requests(request, *, fmt):
    if request.method == "POST":
        data = request.POST
        _refuse_when_over_limit(request, data.get("api_key", ""))
        case = submit_request(
            api_key=data.get("api_key", ""), service_code=data.get("service_code", ""),
            lat=data.get("lat", ""), long=data.get("long", ""), address_string=data.get("address_string", ""),
            address_id=data.get("address_id", ""), email=data.get("email", ""),
            first_name=data.get("first_name", ""), last_name=data.get("last_name", ""),
            phone=data.get("phone", ""), description=data.get("description", ""),
            media_url=data.get("media_url", ""))
        row = {"service_request_id": case.number, "service_notice": present.service_notice(case),
               "account_id": data.get("account_id") or None}
        return render.respond([row], fmt=fmt, root="service_requests")
    rows = [present.request_row(case) for case in selectors.search_requests(request.GET)]
    return render.respond(rows, fmt=fmt, root="service_requests")


def _refuse_when_over_limit(request, api_key: str) -> None:
    """Per client address and per api_key (its hash: the plain key is never a cache key),
    counted before the key is checked, so guessing keys is limited too."""
    wait = first_over(request, ("open311:post-ip", None),
                      ("open311:post-key", hashlib.sha256(api_key.encode()).hexdigest()))
    if wait is not None:
        raise Open311Error(429, _("Too many requests. Try again in %(seconds)s seconds.") % {"seconds": wait},
                           headers={"Retry-After": str(wait)})


@open311("GET")
def service_request(request, service_request_id, *, fmt):
    case = selectors.published_request(service_request_id)
    return render.respond([present.request_row(case)], fmt=fmt, root="service_requests")


@open311("GET")
def token(request, token, *, fmt):
    case = selectors.request_for_token(token)
    return render.respond([{"service_request_id": case.number, "token": str(case.token)}], fmt=fmt,
                          root="service_requests")


@open311("GET", "POST", "PUT", "PATCH", "DELETE")
def unknown(request, *, fmt):
    raise Open311Error(404, _("There is no such Open311 resource here."))

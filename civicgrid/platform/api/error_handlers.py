"""Django's error handlers (400, 403, 404, 500), answering in the format of the endpoint
family asked: DRF's ``{"detail": …}`` under ``/api/``, Open311's list of ``{code,
description}`` under ``/open311/`` (JSON or XML by extension), the console's pages
elsewhere.

Errors raised inside a DRF view are DRF's to answer; these catch what happens before a
view runs or outside DRF: a path no route matches (``/api/v1/cases/abc/``), a body over
the upload limit, an unhandled exception. An API client must never have to parse an
HTML page. Messages are DRF's own (translated in its catalog) in the user's language.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.views import defaults
from rest_framework import exceptions

API_PREFIX = "/api/"
OPEN311_PREFIX = "/open311/"


def bad_request(request, exception):
    return _answer(request, exceptions.ParseError(), lambda: defaults.bad_request(request, exception))


def permission_denied(request, exception):
    return _answer(request, exceptions.PermissionDenied(),
                   lambda: defaults.permission_denied(request, exception))


def page_not_found(request, exception):
    return _answer(request, exceptions.NotFound(), lambda: defaults.page_not_found(request, exception))


def server_error(request):
    return _answer(request, exceptions.APIException(), lambda: defaults.server_error(request))


def _answer(request, problem: exceptions.APIException, page) -> HttpResponse:
    path = request.path_info
    if path.startswith(API_PREFIX):
        from rest_framework.renderers import JSONRenderer

        return HttpResponse(JSONRenderer().render({"detail": problem.detail}), status=problem.status_code,
                            content_type="application/json")
    if path.startswith(OPEN311_PREFIX):
        from civicgrid.platform.api.open311 import render
        from civicgrid.platform.api.open311.errors import Open311Error

        return render.error(Open311Error(problem.status_code, str(problem.detail)),
                            fmt="xml" if path.endswith(".xml") else "json")
    return page()

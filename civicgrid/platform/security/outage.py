"""What a request gets when a part it needs is down: 503, a sentence in the reader's
language, and ``Retry-After``, instead of a bare 500.

The parts: the database (a restart, a failover, a full disk: Django raises its
``OperationalError`` or ``InterfaceError``, whatever statement was running) and object
storage or the media disk (``files.storage.StorageUnavailable``, raised where a file is
stored). Either way the request's transaction was rolled back, so nothing of it was
kept: the client may send it again (a report with its ``client_key`` is recorded once).

Django turns any exception into a 500 before an outer middleware sees it, so the
exception is noted on the request when Django signals it (``got_request_exception``) and
``ServiceUnavailableMiddleware``, the outermost, answers 503 instead. No database query
and no template is needed to answer.
"""

from __future__ import annotations

import logging
import sys

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _

from civicgrid.platform.files.storage import StorageUnavailable

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30


def reason(exc: BaseException | None) -> str | None:
    """The sentence for the user if ``exc`` means a part is down, else None."""
    if isinstance(exc, StorageUnavailable):
        return str(exc)
    if isinstance(exc, OperationalError | InterfaceError):
        if _disk_full(exc):
            return _("The database's disk is full, so nothing was saved. Please tell the operators; "
                     "try again later.")
        return _("The database cannot be reached right now, so nothing was saved. Please try again in a minute.")
    return None


def _disk_full(exc: BaseException) -> bool:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", "") == "53100"  # disk_full


def _noticed(sender, request=None, **kwargs):
    """Django's ``got_request_exception``: sent inside its ``except`` block, whichever
    middleware or view raised and whichever URL conf (console, province, community
    site) answers; the exception is still at hand here, and gone once a 500 is made."""
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, StorageUnavailable | OperationalError | InterfaceError):
        request.civicgrid_outage = exc


got_request_exception.connect(_noticed, dispatch_uid="civicgrid-outage")


class ServiceUnavailableMiddleware:
    """First in ``MIDDLEWARE``: a 500 made of a part being down becomes the 503 below."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        exc = getattr(request, "civicgrid_outage", None)
        if exc is not None and response.status_code >= 500:
            return unavailable(request, exc)
        return response


def unavailable(request, exc: BaseException) -> HttpResponse:
    """503 with ``reason(exc)`` in the request's language: DRF's ``{"detail": …}`` under
    /api/, Open311's error list under /open311/, a plain page elsewhere (no template, no
    query: the database may be the part that is down)."""
    with translation.override(translation.get_language_from_request(request)):
        message = reason(exc)
        logger.warning("503 for %s %s: %s (%s)", request.method, request.path, type(exc).__name__, exc)
        path = request.path_info
        if path.startswith("/api/"):
            response = JsonResponse({"detail": message}, status=503, json_dumps_params={"ensure_ascii": False})
        elif path.startswith("/open311/"):
            from civicgrid.platform.api.open311 import render
            from civicgrid.platform.api.open311.errors import Open311Error

            response = render.error(Open311Error(503, message), fmt="xml" if path.endswith(".xml") else "json")
        else:
            title = _("Temporarily unavailable")
            response = HttpResponse(
                f'<!doctype html><html lang="{translation.get_language()}"><meta charset="utf-8">'
                f"<title>{escape(title)}</title><h1>{escape(title)}</h1><p>{escape(message)}</p></html>",
                status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response

"""Refuses any request carrying a NUL character (U+0000) in its text.

PostgreSQL cannot store NUL in text, so a NUL that reaches a query is a 500. DRF
serializer fields and Django forms refuse it already; views that read ``request.GET``
or ``request.POST`` by hand (Open311, list filters such as ``?q=``) do not. This
middleware refuses it once, for every view, with HTTP 400 and nothing changed:

* at once, before anything else reads the request: the path, the query string
  (keys and values, raw or ``%00``), header values, cookies and Basic credentials (decoded); a URL-encoded body
  (raw or ``%00``) and a JSON body (a raw NUL, or ``\\u0000`` in any key or string,
  however nested) whose declared length is within ``DATA_UPLOAD_MAX_MEMORY_SIZE``
  (a larger or undeclared one is left to the view's own limits, as DRF leaves it).
* a POST form (URL-encoded or multipart) as Django parses ``request.POST``: its field
  names and values, and the uploads' field names and declared types, never the files'
  bytes. It is parsed just before the view where that changes nothing (where the CSRF
  check parses it anyway; for DRF views, which then take Django's parse instead of
  their own); a ``csrf_exempt`` view parses it itself, after installing its upload
  handlers (the registry import streams under its own limit), and the check runs then.

The answer speaks the endpoint family's error format: Open311's list of ``{code,
description}`` under ``/open311/`` (JSON or XML by extension), DRF's ``{"detail"}``
under ``/api/``, the console's page elsewhere; in the user's language, decided as
LocaleMiddleware decides it (this runs before it).
"""

from __future__ import annotations

import base64
import binascii
import json

from django.core.exceptions import BadRequest, RequestDataTooBig
from django.http import HttpResponse, HttpResponseBadRequest, RawPostDataException
from django.http.multipartparser import MultiPartParserError
from django.template import engines
from django.urls import set_urlconf
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

NUL = "\x00"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
URLENCODED = "application/x-www-form-urlencoded"

# The console's look (console/base.html) without installing this package as an app.
_PAGE_SOURCE = (
    '{% extends "console/base.html" %}'
    "{% block title %}{{ title }}{% endblock %}"
    '{% block content %}<div class="card"><h1>{{ title }}</h1><p>{{ message }}</p></div>{% endblock %}'
)
_page = None


class NulCharacterRefused(BadRequest):
    """Raised from ``request.POST`` when the parsed form holds a NUL."""


class RefuseNulCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul_at_once(request):
            return refusal(request)
        if request.method == "POST" and request.content_type in FORM_TYPES:
            _check_form_when_parsed(request)
        response = self.get_response(request)
        if getattr(request, "nul_refused", False) and not getattr(response, "nul_refusal", False):
            return refusal(request)  # refused where no hook of this class could answer (another middleware)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        """Parses a POST form just before the view where that changes nothing: where the
        CSRF check would parse it anyway, and a multipart body for DRF, which otherwise
        parses it itself, past request.POST (it then takes Django's request.POST and
        FILES, parsed with the same upload handlers and limits). Another csrf_exempt
        view parses it itself, after installing any upload handlers of its own."""
        if request.method != "POST" or request.content_type not in FORM_TYPES:
            return None
        drf = _is_drf_view(getattr(view_func, "cls", None))
        if drf:
            if request.content_type != "multipart/form-data":
                return None  # URL-encoded: checked at once, and DRF reads it as before
        elif getattr(view_func, "csrf_exempt", False):
            return None
        try:
            request.POST  # noqa: B018 (parsing is the point)
        except NulCharacterRefused:
            return refusal(request)
        except MultiPartParserError as exc:
            if drf:  # what DRF's MultiPartParser would have answered
                return _api_error(f"Multipart form parse error - {exc}")
            raise
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, NulCharacterRefused):  # the view parsed the form
            return refusal(request)
        return None


# --- what is checked ---------------------------------------------------------------------


def _has_nul_at_once(request) -> bool:
    if NUL in request.path:
        return True
    query = request.META.get("QUERY_STRING", "")
    if query and ("%00" in query or NUL in query):
        return True
    meta = request.META
    for key, value in meta.items():
        if (key[:5] == "HTTP_" or key == "CONTENT_TYPE") and isinstance(value, str) and NUL in value:
            return True
    if _basic_credentials_have_nul(meta.get("HTTP_AUTHORIZATION", "")):
        return True
    if "\\000" in meta.get("HTTP_COOKIE", ""):  # a quoted cookie value's octal escape decodes to NUL
        if any(NUL in key or NUL in value for key, value in request.COOKIES.items()):
            return True
    if request.method not in BODY_METHODS or not _declared_length(request):
        return False
    content_type = request.content_type or ""
    if content_type == URLENCODED:
        body = _body(request)
        return body is not None and (b"%00" in body or b"\x00" in body)
    if content_type == "application/json" or content_type.endswith("+json"):
        return _json_has_nul(request)
    return False


def _basic_credentials_have_nul(authorization: str) -> bool:
    """Basic credentials are base64: a NUL in the user name or password only shows decoded
    (it reached the sign-in lockout's and the user's queries: 500)."""
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return False
    try:
        return b"\x00" in base64.b64decode(credentials.strip(), validate=False)
    except (ValueError, binascii.Error):
        return False  # not base64: DRF refuses it


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _body(request) -> bytes | None:
    """The body, cached by Django for whoever reads it next; None when it is over the
    in-memory limit (the view refuses it as it does today) or was already streamed."""
    try:
        return request.body
    except (RequestDataTooBig, RawPostDataException):
        return None


def _json_has_nul(request) -> bool:
    body = _body(request)
    if not body:
        return False
    try:
        text = body.decode(request.content_params.get("charset") or "utf-8")
    except (LookupError, UnicodeDecodeError):
        return False  # the view refuses it as it does today
    if NUL in text:
        return True
    if "\\u0000" not in text:  # the only way JSON spells NUL inside a string
        return False
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False  # not JSON: left for the view to refuse
    return _nested_has_nul(data)


def _nested_has_nul(data) -> bool:
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if NUL in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _check_form_when_parsed(request) -> None:
    """Wraps this request's ``_load_post_and_files``: the form is checked the moment
    Django parses it, with the view's upload handlers in place."""
    parse = request._load_post_and_files

    def parse_and_check():
        parse()
        if _form_has_nul(request._post, request._files):
            request._mark_post_parse_error()  # nobody reads the refused fields afterwards
            request.nul_refused = True
            raise NulCharacterRefused("NUL character in the form")

    request._load_post_and_files = parse_and_check


def _form_has_nul(post, files) -> bool:
    for key, values in post.lists():
        if NUL in key or any(NUL in value for value in values):
            return True
    for key, uploads in files.lists():
        if NUL in key:
            return True
        for upload in uploads:  # Django already strips unprintable characters from file names
            if any(NUL in (text or "") for text in (upload.name, upload.content_type, upload.charset)):
                return True
    return False


def _is_drf_view(cls) -> bool:
    if cls is None:
        return False
    from rest_framework.views import APIView

    return isinstance(cls, type) and issubclass(cls, APIView)


# --- the answer ----------------------------------------------------------------------------


def refusal(request) -> HttpResponse:
    language = translation.get_language_from_request(request)
    with translation.override(language):
        message = _("The request contains a NUL character (U+0000), which no text may contain. "
                    "Nothing was changed.")
        path = request.path_info
        if path.startswith("/open311/"):
            from civicgrid.platform.api.open311 import render
            from civicgrid.platform.api.open311.errors import Open311Error

            response = render.error(Open311Error(400, message), fmt="xml" if path.endswith(".xml") else "json")
        elif path.startswith("/api/"):
            response = _api_error(message)
        else:
            response = HttpResponseBadRequest(_console_page(request, _("Request refused"), message))
    response.headers.setdefault("Content-Language", language)
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    response.nul_refusal = True
    return response


def _api_error(message: str) -> HttpResponse:
    """The REST API's error body, as DRF renders a ParseError: ``{"detail": …}``."""
    from rest_framework.renderers import JSONRenderer

    return HttpResponse(JSONRenderer().render({"detail": message}), status=400, content_type="application/json")


def _console_page(request, title: str, message: str) -> str:
    global _page
    if _page is None:
        _page = engines["django"].from_string(_PAGE_SOURCE)
    if hasattr(request, "urlconf"):  # the province site's URLs, as the handler would set them
        set_urlconf(request.urlconf)
    return _page.render({"title": title, "message": message}, request)

"""An OpenAPI 3 description of the GeoReport v2 endpoints this tenant serves.

The spec has none of its own; this one says what ``views`` accepts (the spec's fields,
the form-encoded POST, both formats) so clients and the fuzz tests can generate requests
from it. Keep it beside the views: a parameter added there belongs here too.
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.utils.translation import gettext as _

FORMAT = {"name": "format", "in": "path", "required": True, "schema": {"type": "string", "enum": ["json", "xml"]}}
ERROR = {"description": "Open311's error list: [{code, description}] (or <errors> in XML)"}
TEXT = {"type": "string"}


def _path_text(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": TEXT}


def _query(name: str, **schema) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string", **schema}}


def _get(summary: str, *parameters: dict) -> dict:
    return {"get": {"summary": summary, "parameters": [*parameters, FORMAT],
                    "responses": {"200": {"description": "OK"}, "400": ERROR, "404": ERROR}}}


REQUEST_FIELDS = {
    "api_key": TEXT, "service_code": TEXT, "lat": TEXT, "long": TEXT, "address_string": TEXT,
    "address_id": TEXT, "email": TEXT, "device_id": TEXT, "account_id": TEXT, "first_name": TEXT,
    "last_name": TEXT, "phone": TEXT, "description": {"type": "string", "maxLength": 4000}, "media_url": TEXT,
}


def document(server: str = "/") -> dict:
    requests = _get("Service requests: the spec's filters, newest first, at most 1000",
                    _query("service_request_id"), _query("service_code"), _query("start_date"),
                    _query("end_date"), _query("status"))
    requests["post"] = {
        "summary": "Create a service request (api_key required)",
        "parameters": [FORMAT],
        "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
            "type": "object", "properties": REQUEST_FIELDS, "required": ["api_key", "service_code"]}}}},
        "responses": {"200": {"description": "the new request's id"}, "400": ERROR, "403": ERROR, "404": ERROR},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "CivicGrid Open311 GeoReport v2", "version": "2"},
        "servers": [{"url": server}],
        "paths": {
            "/open311/v2/discovery.{format}": _get("Discovery"),
            "/open311/v2/services.{format}": _get("Service list"),
            "/open311/v2/services/{service_code}.{format}": _get("Service definition", _path_text("service_code")),
            "/open311/v2/requests.{format}": requests,
            "/open311/v2/requests/{service_request_id}.{format}": _get(
                "One service request", _path_text("service_request_id")),
            "/open311/v2/tokens/{token}.{format}": _get("The request a token became", _path_text("token")),
        },
    }


def served(request):
    """GET /open311/v2/openapi.json: the document, with this tenant's own address. Public,
    like every Open311 read; anything but GET gets the spec's error."""
    if request.method != "GET":
        from . import render
        from .errors import Open311Error

        response: HttpResponse = render.error(Open311Error(405, _("This resource does not accept %(method)s.")
                                                           % {"method": request.method}), fmt="json")
        response["Allow"] = "GET"
        return response
    return JsonResponse(document(request.build_absolute_uri("/")), json_dumps_params={"ensure_ascii": False})

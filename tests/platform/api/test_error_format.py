"""Errors that happen before a view answers keep the endpoint family's format: a path no
route matches under /api/ is DRF's ``{"detail"}`` in JSON (it was the console's HTML
page, which an API client cannot read), under /open311/ Open311's error list, and the
console keeps its page. In the user's language."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest
from django.test import Client, RequestFactory
from django.utils import translation

from civicgrid.platform.api import error_handlers

SHANGCHENG = "shangcheng.localhost"


@pytest.mark.parametrize("host", [SHANGCHENG, "localhost"])
def test_an_api_path_no_route_matches_is_a_json_404(world, host):
    english = Client(HTTP_HOST=host, HTTP_ACCEPT_LANGUAGE="en")
    for path in ("/api/v1/cases/abc/", "/api/v1/registry/persons/export.exe", "/api/v1/nothing-here/"):
        response = english.get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found."}
    chinese = Client(HTTP_HOST=host).delete("/api/v1/cases/1.5/")
    assert chinese.status_code == 404 and chinese.json() == {"detail": "未找到。"}


def test_the_console_keeps_its_404_page(world):
    response = Client(HTTP_HOST=SHANGCHENG, HTTP_ACCEPT_LANGUAGE="en").get("/cases/abc/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(("path", "kind"), [("/api/v1/cases/", "api"), ("/open311/v2/requests.json", "json"),
                                            ("/open311/v2/requests.xml", "xml"), ("/cases/", "page")])
def test_a_crash_and_a_bad_request_answer_in_the_familys_format(path, kind):
    request = RequestFactory().get(path)
    with translation.override("en"):
        answers = [(error_handlers.server_error(request), 500, "A server error occurred."),
                   (error_handlers.bad_request(request, Exception()), 400, "Malformed request."),
                   (error_handlers.permission_denied(request, Exception()), 403,
                    "You do not have permission to perform this action.")]
    for response, status, message in answers:
        assert response.status_code == status
        if kind == "api":
            assert response["Content-Type"] == "application/json"
            assert json.loads(response.content) == {"detail": message}
        elif kind == "json":
            assert json.loads(response.content) == [{"code": status, "description": message}]
        elif kind == "xml":
            error = ET.fromstring(response.content).find("error")
            assert (error.findtext("code"), error.findtext("description")) == (str(status), message)
        else:
            assert "application/json" not in response["Content-Type"]


def test_a_post_without_a_csrf_cookie_to_no_route_under_api_is_a_json_404(world):
    """The tenant's last route (Wagtail's page view, CSRF-checked) once caught these: an
    anonymous POST got the CSRF failure page as HTML."""
    anonymous = Client(HTTP_HOST=SHANGCHENG, HTTP_ACCEPT_LANGUAGE="en", enforce_csrf_checks=True)
    for path in ("/api/v1/cases/Ø/accept/", "/api/v1/routing-rules/x/"):
        response = anonymous.post(path, {"reason": "x"})
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not found."}

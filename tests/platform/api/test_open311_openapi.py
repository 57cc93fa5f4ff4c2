"""The OpenAPI document of the Open311 endpoints, served at /open311/v2/openapi.json on
each county's host with that host's address; public like every Open311 read, GET only,
and names only routes that exist (the fuzz test generates its requests from it)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import Resolver404, resolve

from civicgrid.platform.api.open311 import openapi

ROUTES_COVERED = {"open311-openapi": "test_each_county_serves_its_own_document_and_only_by_get"}


def test_each_county_serves_its_own_document_and_only_by_get(world):
    for host in ("shangcheng.localhost", "yuhang.localhost"):
        response = Client(HTTP_HOST=host).get("/open311/v2/openapi.json")
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
        document = response.json()
        assert document["servers"] == [{"url": f"http://{host}/"}]
        assert document["paths"] == openapi.document()["paths"]
    assert Client(HTTP_HOST="nowhere.localhost").get("/open311/v2/openapi.json").status_code == 404
    assert Client(HTTP_HOST="localhost").get("/open311/v2/openapi.json").status_code == 404  # the province
    refused = Client(HTTP_HOST="shangcheng.localhost", HTTP_ACCEPT_LANGUAGE="en",
                     enforce_csrf_checks=True).post("/open311/v2/openapi.json", {})
    assert refused.status_code == 405 and refused["Allow"] == "GET"
    assert refused.json() == [{"code": 405, "description": "This resource does not accept POST."}]


@pytest.mark.parametrize("path", list(openapi.document()["paths"]))
def test_the_document_names_routes_that_exist(path):
    concrete = path.replace("{format}", "json").replace("{service_code}", "X").replace(
        "{service_request_id}", "CG1").replace("{token}", "t")
    try:
        match = resolve(concrete, urlconf="civicgrid.config.urls_tenant")
    except Resolver404:
        pytest.fail(f"{path} is not routed")
    assert match.url_name != "open311-unknown", path

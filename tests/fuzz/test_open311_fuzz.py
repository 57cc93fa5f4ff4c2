"""Open311 GeoReport v2 under generated requests, from the OpenAPI document of what this
tenant serves (civicgrid/platform/api/open311/openapi.py): GET services and requests,
POST requests without a key, with a made-up one and with a valid one, in JSON and XML.
No answer is a 5xx; every 4xx is Open311's error list ([{code, description}], or
<errors> in XML) with the answer's status as its code, in Chinese where the catalog has
the message. In the test's transaction: what POST creates is rolled back with it."""

from __future__ import annotations

import json
from xml.etree import ElementTree as ET

import pytest
import schemathesis
from django.db import connection
from django_tenants.utils import tenant_context

from civicgrid.platform.api.open311 import keys, openapi
from civicgrid.platform.api.open311.submit import submit_request
from civicgrid.platform.cases.models import Case, Category, Source
from tests.fuzz.conftest import BASE_URL
from tests.fuzz.harness import chinese_catalog, english_leaks, fuzz, send

pytestmark = [pytest.mark.fuzz]

EXAMPLES = 20  # per operation and mode: 7 operations


@pytest.fixture
def open311(world):
    """A key, and a request that came in through Open311 (only those are published)."""
    with tenant_context(world.shangcheng):
        key = keys.create_key(label="模糊测试")
        submit_request(api_key=key, service_code="DSP-NEIGHBOUR", lat="30.245", long="120.175",
                       description="楼上漏水")
    return world, key


def known_values(world):
    def values(path):
        with tenant_context(world.shangcheng):
            published = Case.objects.filter(source=Source.OPEN311)
            return {"service_code": list(Category.objects.order_by("code").values_list("code", flat=True)[:5]),
                    "service_request_id": list(published.values_list("number", flat=True)),
                    "token": [str(token) for token in published.values_list("token", flat=True)]}

    return values


def open311_errors(sent) -> list[str]:
    """The descriptions of an Open311 error answer, or AssertionError."""
    xml = sent.path.split("?")[0].endswith(".xml")
    expected = "text/xml; charset=utf-8" if xml else "application/json; charset=utf-8"
    assert sent.content_type == expected, f"a {sent.status} not in the asked format\n{sent.describe()}"
    try:
        if xml:
            root = ET.fromstring(sent.body)
            items = [(e.findtext("code"), e.findtext("description")) for e in root]
            shaped = root.tag == "errors" and all(e.tag == "error" for e in root)
        else:
            body = json.loads(sent.body)
            shaped = isinstance(body, list) and all(isinstance(e, dict) and set(e) == {"code", "description"}
                                                     for e in body)
            items = [(str(e["code"]), e["description"]) for e in body] if shaped else []
    except (ET.ParseError, ValueError):
        raise AssertionError(f"a {sent.status} that does not parse\n{sent.describe()}") from None
    assert shaped and items, f"not Open311's error list\n{sent.describe()}"
    assert all(code == str(sent.status) and description for code, description in items), sent.describe()
    return [description for _code, description in items]


def open311_check(app, catalog, *, api_key: str | None = None):
    """With ``api_key``, POSTs only, with that key, a service that exists and a place in
    shangcheng: the rest of the fields (description, names, phone, e-mail, media_url …) as
    generated, so what gets refused or taken is the report itself."""
    def check(case):
        if api_key is not None:  # only POST takes a key; GET needs none
            if case.method.upper() != "POST" or not isinstance(case.body, dict):
                return None
            case.body.update(api_key=api_key, service_code="DSP-NEIGHBOUR", lat="30.245", long="120.175")
        sent = send(case, app, base_url=BASE_URL, headers={"Accept-Language": "zh-hans"})
        connection.set_schema_to_public()
        assert sent.status < 500, f"a server error\n{sent.describe()}"
        if sent.status >= 400:
            leaks = english_leaks(open311_errors(sent), catalog)
            assert not leaks, f"English although the catalog has it in Chinese: {leaks}\n{sent.describe()}"
        return sent

    return check


def test_open311_answers_in_its_error_format_whatever_it_is_sent(open311, app, media):
    world, key = open311
    catalog = chinese_catalog()
    schema = schemathesis.openapi.from_dict(openapi.document())
    callers = {"a client without a valid key": open311_check(app, catalog),
               "a client with a valid key": open311_check(app, catalog, api_key=key)}
    findings = fuzz(schema, callers=callers, examples=EXAMPLES, known_values=known_values(world))
    print(f"{findings.cases} cases, statuses {sorted(findings.statuses.items())}")
    assert findings.statuses.get(200, 0) > findings.cases // 10  # it got past the refusals
    with tenant_context(world.shangcheng):  # and valid reports went in
        assert Case.objects.filter(source=Source.OPEN311).count() > 1
    assert not findings.failures, findings.report()

"""Open311 GeoReport v2 per tenant: requests and errors as the spec shows them, in
JSON and XML; keys issued per county; published requests only, never the reporter."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from civicgrid.platform.api.open311 import keys
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import Case, Category, Open311Key, Source, Status
from tests.conftest import child_env
from tests.platform.cases.test_workflow import IN_G01, handler, staff

ROUTES_COVERED = {
    "open311-discovery": "test_discovery_names_this_tenants_endpoint",
    "open311-services": "test_services_are_the_tenants_active_leaf_categories",
    "open311-service": "test_a_service_definition_has_no_attributes_and_unknown_codes_are_404",
    "open311-requests": "test_a_key_works_only_for_its_own_county",
    "open311-request": "test_a_key_works_only_for_its_own_county",
    "open311-token": "test_a_key_works_only_for_its_own_county",
    "open311-unknown": "test_unknown_resources_and_methods_get_the_spec_error",
}

SHANGCHENG, YUHANG = "shangcheng.localhost", "yuhang.localhost"
BASE = "/open311/v2"
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
REPORT = {"service_code": "DSP-NEIGHBOUR", "lat": str(IN_G01["latitude"]), "long": str(IN_G01["longitude"]),
          "description": "楼上漏水，邻里争吵\n已经三天了", "first_name": "三", "last_name": "张",
          "phone": "13800138000", "email": "zhang@example.com", "account_id": "acct-7"}


@pytest.fixture
def key(world) -> str:
    with tenant_context(world.shangcheng):
        return keys.create_key(label="市民通 App")


def client(host: str = SHANGCHENG, **headers) -> Client:
    # CSRF checks on, as in production: POST must pass on its api_key alone.
    return Client(HTTP_HOST=host, enforce_csrf_checks=True, **headers)


def post(fields: dict, *, fmt: str = "json", host: str = SHANGCHENG, http: Client | None = None):
    """In English, so tests can read the error descriptions whatever the catalogue says."""
    return (http or client(host, HTTP_ACCEPT_LANGUAGE="en")).post(f"{BASE}/requests.{fmt}", fields)


def xml(response) -> ET.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n')
    return ET.fromstring(response.content)


def spec_error(response, status: int, fmt: str = "json") -> list[str]:
    """The spec's error body: a list of {code, description}; returns the descriptions."""
    assert response.status_code == status, response.content
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors" and [e.tag for e in root] == ["error"] * len(root) and len(root) >= 1
        assert all(e.findtext("code") == str(status) and e.findtext("description") for e in root)
        return [e.findtext("description") for e in root]
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert isinstance(body, list) and body and all(set(item) == {"code", "description"} for item in body)
    assert all(item["code"] == status and item["description"] for item in body)
    return [item["description"] for item in body]


def cases_in(tenant) -> int:
    with tenant_context(tenant):
        return Case.objects.count()


# --- services ------------------------------------------------------------------------------


def test_services_are_the_tenants_active_leaf_categories(world):
    response = client().get(f"{BASE}/services.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json; charset=utf-8"
    rows = response.json()
    with tenant_context(world.shangcheng):
        leaves = Category.objects.filter(parent__isnull=False, is_active=True).count()
    assert len(rows) == leaves and all(list(row) == ["service_code", "service_name", "description", "metadata",
                                                     "type", "keywords", "group"] for row in rows)
    neighbour = next(row for row in rows if row["service_code"] == "DSP-NEIGHBOUR")
    assert neighbour["service_name"] == "邻里纠纷" and neighbour["group"] == "矛盾纠纷"
    assert neighbour["metadata"] is False and neighbour["type"] == "realtime"
    assert "Neighbour dispute" in neighbour["keywords"]
    english = client(HTTP_ACCEPT_LANGUAGE="en").get(f"{BASE}/services.json").json()
    assert next(r for r in english if r["service_code"] == "DSP-NEIGHBOUR")["service_name"] == "Neighbour dispute"

    root = xml(client().get(f"{BASE}/services.xml"))
    assert root.tag == "services" and len(root) == leaves and {child.tag for child in root} == {"service"}
    item = next(s for s in root if s.findtext("service_code") == "DSP-NEIGHBOUR")
    assert [e.tag for e in item] == list(neighbour) and item.findtext("metadata") == "false"
    assert item.findtext("service_name") == "邻里纠纷" and item.findtext("type") == "realtime"

    # Each county serves its own tree: a category switched off in Shangcheng stays on in Yuhang.
    with tenant_context(world.shangcheng):
        Category.objects.filter(code="DSP-NEIGHBOUR").update(is_active=False)  # no category action exists yet
    assert "DSP-NEIGHBOUR" not in {r["service_code"] for r in client().get(f"{BASE}/services.json").json()}
    assert "DSP-NEIGHBOUR" in {r["service_code"] for r in client(YUHANG).get(f"{BASE}/services.json").json()}
    spec_error(client().post(f"{BASE}/services.json"), 405)


def test_a_service_definition_has_no_attributes_and_unknown_codes_are_404(world):
    response = client().get(f"{BASE}/services/DSP-NEIGHBOUR.json")
    assert response.status_code == 200 and response.json() == {"service_code": "DSP-NEIGHBOUR", "attributes": []}
    root = xml(client().get(f"{BASE}/services/DSP-NEIGHBOUR.xml"))
    assert root.tag == "service_definition" and [e.tag for e in root] == ["service_code", "attributes"]
    assert root.findtext("service_code") == "DSP-NEIGHBOUR" and len(root.find("attributes")) == 0
    assert "NOPE" in spec_error(client(HTTP_ACCEPT_LANGUAGE="en").get(f"{BASE}/services/NOPE.json"), 404)[0]
    spec_error(client().get(f"{BASE}/services/NOPE.xml"), 404, "xml")
    spec_error(client().get(f"{BASE}/services/DSP.json"), 404)  # a group is not a service

    with tenant_context(world.shangcheng):
        Category.objects.filter(code="DSP-NEIGHBOUR").update(is_active=False)
    spec_error(client().get(f"{BASE}/services/DSP-NEIGHBOUR.json"), 404)
    assert client(YUHANG).get(f"{BASE}/services/DSP-NEIGHBOUR.json").status_code == 200


def test_discovery_names_this_tenants_endpoint(world):
    body = client().get(f"{BASE}/discovery.json").json()
    assert body["contact"] == world.shangcheng.name
    endpoint = body["endpoints"][0]
    assert endpoint["url"] == "http://shangcheng.localhost/open311/v2/"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = xml(client(YUHANG).get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery" and root.findtext("contact") == world.yuhang.name
    assert root.find("endpoints/endpoint/url").text == "http://yuhang.localhost/open311/v2/"
    assert [f.text for f in root.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]


# --- POST and the round trip ---------------------------------------------------------------


def test_a_posted_request_is_a_case_followed_to_its_closing(world, key):
    response = post({**REPORT, "api_key": key, "media_url": "https://img.example.com/leak.jpg"})
    assert response.status_code == 200, response.content
    [created] = response.json()
    assert list(created) == ["service_request_id", "service_notice", "account_id"]  # no token: type realtime
    assert created["account_id"] == "acct-7" and "accept" in created["service_notice"]  # the deadline to accept
    number = created["service_request_id"]
    with tenant_context(world.shangcheng):
        case = Case.objects.get(number=number)
        assert case.source == Source.OPEN311 and case.status == Status.REPORTED and case.reporter is None
        assert case.category.code == "DSP-NEIGHBOUR" and case.grid.code == "T01-C01-G01"
        assert case.title == "楼上漏水，邻里争吵" and case.reporter_name == "张三"
        assert case.reporter_email == "zhang@example.com" and case.reporter_phone_encrypted
        assert AuditEntry.objects.filter(action="open311.request", target_id=str(case.pk),
                                         data__client="市民通 App").exists()

    response = client().get(f"{BASE}/requests/{number}.json")
    [row] = response.json()
    assert list(row) == REQUEST_FIELDS
    assert row["status"] == "open" and row["status_notes"] is None and row["service_code"] == "DSP-NEIGHBOUR"
    assert row["service_name"] == "邻里纠纷" and row["description"] == REPORT["description"]
    assert row["media_url"] == "https://img.example.com/leak.jpg"
    assert row["lat"] == IN_G01["latitude"] and row["long"] == IN_G01["longitude"]
    assert row["requested_datetime"].endswith("+08:00") and row["agency_responsible"] is None
    assert row["expected_datetime"] == timezone.localtime(case.accept_due).isoformat(timespec="seconds")
    for personal in ("张三", "13800138000", "zhang@example.com", "acct-7"):
        assert personal not in response.content.decode()  # GET is public

    with tenant_context(world.shangcheng):
        operator, jus = staff("shangcheng_operator"), handler("D-JUS")
        case = actions.accept_case(staff=operator, case_id=case.pk)
        case = actions.dispatch_case(staff=operator, case_id=case.pk)
        case = actions.start_case(staff=jus, case_id=case.pk)
    [row] = client().get(f"{BASE}/requests/{number}.json").json()
    assert row["status"] == "open" and row["agency_responsible"] == case.department.name
    assert row["expected_datetime"] == timezone.localtime(case.handle_due).isoformat(timespec="seconds")

    with tenant_context(world.shangcheng):
        case = actions.handle_case(staff=jus, case_id=case.pk, result="已上门调解，修好水管")
    [row] = client().get(f"{BASE}/requests/{number}.json").json()
    assert row["status"] == "closed" and row["status_notes"] == "已上门调解，修好水管"
    with tenant_context(world.shangcheng):
        case = actions.close_case(staff=operator, case_id=case.pk)
    root = xml(client().get(f"{BASE}/requests/{number}.xml"))
    assert root.tag == "service_requests" and [r.tag for r in root] == ["request"]
    request = root[0]
    assert [e.tag for e in request] == REQUEST_FIELDS
    assert request.findtext("status") == "closed" and request.findtext("status_notes") == "已上门调解，修好水管"
    assert request.findtext("updated_datetime") == timezone.localtime(case.closed_at).isoformat(timespec="seconds")
    assert request.find("zipcode").text is None and request.findtext("service_notice") == ""

    # Token lookup: GET service_request_id from a token.
    assert client().get(f"{BASE}/tokens/{case.token}.json").json() == [
        {"service_request_id": number, "token": str(case.token)}]
    token = xml(client().get(f"{BASE}/tokens/{case.token}.xml"))
    assert token.tag == "service_requests" and token.find("request/service_request_id").text == number
    spec_error(client().get(f"{BASE}/tokens/not-a-token.json"), 404)


def test_posting_in_xml_with_an_address_only(world, key):
    response = post({"api_key": key, "service_code": "DSP-NEIGHBOUR", "address_string": "清泰街 100 号",
                     "first_name": "John", "last_name": "Smith"}, fmt="xml")
    assert response.status_code == 200, response.content
    root = xml(response)
    assert root.tag == "service_requests" and [e.tag for e in root[0]] == [
        "service_request_id", "service_notice", "account_id"]
    assert root[0].find("account_id").text is None
    number = root[0].findtext("service_request_id")
    with tenant_context(world.shangcheng):
        case = Case.objects.get(number=number)
    assert case.address == "清泰街 100 号" and case.latitude is None and case.reporter_name == "John Smith"
    assert case.title == "邻里纠纷"  # no description: the service's name
    [row] = client().get(f"{BASE}/requests/{number}.json").json()
    assert row["address"] == "清泰街 100 号" and row["lat"] is None and row["description"] == ""


def test_bad_posts_get_the_spec_errors_and_create_nothing(world, key):
    before = cases_in(world.shangcheng)
    descriptions = spec_error(post({k: v for k, v in REPORT.items()}), 403)
    assert "api_key" in descriptions[0]
    spec_error(post({**REPORT, "api_key": "guessed"}), 403)
    spec_error(post({**REPORT, "api_key": "guessed"}, fmt="xml"), 403, "xml")
    assert "service_code" in spec_error(post({**REPORT, "api_key": key, "service_code": ""}), 400)[0]
    assert "NOPE" in spec_error(post({**REPORT, "api_key": key, "service_code": "NOPE"}), 404)[0]
    spec_error(post({**REPORT, "api_key": key, "service_code": "NOPE"}, fmt="xml"), 404, "xml")
    no_place = {k: v for k, v in REPORT.items() if k not in ("lat", "long")}
    assert "location" in spec_error(post({**no_place, "api_key": key}), 400)[0]
    assert "address_id" in spec_error(post({**no_place, "api_key": key, "address_id": "545483"}), 400)[0]
    assert "lat and long" in spec_error(post({**no_place, "api_key": key, "lat": "30.2"}), 400)[0]
    assert "numbers" in spec_error(post({**REPORT, "api_key": key, "lat": "north"}), 400)[0]
    spec_error(post({**REPORT, "api_key": key, "lat": "nan"}), 400)
    assert "valid latitude" in spec_error(post({**REPORT, "api_key": key, "lat": "91"}), 400)[0]
    # Several problems at once, each its own error item.
    many = spec_error(post({**REPORT, "api_key": key, "description": "x" * 4001, "email": "nobody",
                            "media_url": "ftp://example.com/a.jpg"}), 400)
    assert len(many) == 3 and "4000" in many[0]
    assert len(spec_error(post({**REPORT, "api_key": key, "phone": "12"}, fmt="xml"), 400, "xml")) == 1
    # A revoked key is refused like a wrong one.
    with tenant_context(world.shangcheng):
        keys.revoke_key(key_id=Open311Key.objects.get(label="市民通 App").pk)
    spec_error(post({**REPORT, "api_key": key}), 403)
    assert cases_in(world.shangcheng) == before


def test_a_key_works_only_for_its_own_county(world, key):
    before = cases_in(world.yuhang)
    spec_error(post({**REPORT, "api_key": key}, host=YUHANG), 403)
    assert cases_in(world.yuhang) == before
    # A signed-in member of staff is no client: POST takes an api_key, never a session.
    admin = client()
    admin.force_login(world.user("shangcheng_admin"))
    spec_error(post(REPORT, http=admin), 403)

    [created] = post({**REPORT, "api_key": key}).json()
    number = created["service_request_id"]
    with tenant_context(world.shangcheng):
        token = Case.objects.get(number=number).token
    assert client().get(f"{BASE}/requests/{number}.json").status_code == 200
    missing = client(YUHANG, HTTP_ACCEPT_LANGUAGE="en").get(f"{BASE}/requests/{number}.json")
    assert "There is no service request" in spec_error(missing, 404)[0]
    spec_error(client(YUHANG).get(f"{BASE}/requests/{number}.xml"), 404, "xml")
    spec_error(client(YUHANG).get(f"{BASE}/tokens/{token}.json"), 404)
    assert number in {r["service_request_id"] for r in client().get(f"{BASE}/requests.json").json()}
    assert number not in {r["service_request_id"] for r in client(YUHANG).get(f"{BASE}/requests.json").json()}
    # Yuhang's own key works on Yuhang.
    with tenant_context(world.yuhang):
        yuhang_key = keys.create_key(label="余杭 App")
    spec_error(post({**REPORT, "api_key": yuhang_key}), 403)  # …and not on Shangcheng
    response = post({**REPORT, "api_key": yuhang_key, "lat": "30.425", "long": "120.305"}, host=YUHANG)
    assert response.status_code == 200 and response.json()[0]["service_request_id"].startswith("330110-")


# --- GET requests --------------------------------------------------------------------------


def test_requests_are_searched_as_the_spec_says(world, key):
    numbers = [post({**REPORT, "api_key": key, "service_code": code}).json()[0]["service_request_id"]
               for code in ("DSP-NEIGHBOUR", "DSP-NEIGHBOUR", "DSP-FAMILY")]
    with tenant_context(world.shangcheng):
        operator = staff("shangcheng_operator")
        rejected = Case.objects.get(number=numbers[1])
        actions.reject_case(staff=operator, case_id=rejected.pk, reason="重复报送，已有工单")
        # A grid worker's report is never published.
        internal = actions.report_case(staff=staff("shangcheng_gridworker"), category="DSP-NEIGHBOUR",
                                       title="内部", source=Source.GRID_WORKER, **IN_G01).number

    def found(query: str = "", fmt: str = "json") -> list[str]:
        response = client().get(f"{BASE}/requests.{fmt}{query}")
        assert response.status_code == 200, response.content
        if fmt == "xml":
            root = xml(response)
            assert root.tag == "service_requests"
            return [r.findtext("service_request_id") for r in root]
        return [r["service_request_id"] for r in response.json()]

    assert found() == numbers[::-1] == found(fmt="xml")  # newest first
    assert internal not in found() and client().get(f"{BASE}/requests/{internal}.json").status_code == 404
    assert found("?status=open") == [numbers[2], numbers[0]]
    assert found("?status=closed") == [numbers[1]] and found("?status=open,closed") == found()
    [row] = [r for r in client().get(f"{BASE}/requests.json?status=closed").json()]
    assert row["status_notes"] == "重复报送，已有工单"
    assert found("?service_code=DSP-FAMILY") == [numbers[2]]
    assert found("?service_code=DSP-FAMILY,DSP-NEIGHBOUR") == found()
    assert found(f"?service_request_id={numbers[0]},{numbers[2]}&status=closed") == [numbers[2], numbers[0]]
    today = timezone.localdate()
    assert found(f"?start_date={today:%Y-%m-%d}T00:00:00%2B08:00") == found()
    assert found(f"?start_date={today:%Y-%m-%d}T00:00:00+08:00") == found()  # an unescaped "+"
    assert found(f"?end_date={today:%Y-%m-%d}T00:00:00%2B08:00") == []
    assert found("?start_date=2100-01-01T00:00:00Z") == []
    assert found("?start_date=&status=") == found()  # empty means absent
    spec_error(client().get(f"{BASE}/requests.json?start_date=2024-01-01T00:00:00Z&end_date=2024-06-01T00:00:00Z"),
               400)
    spec_error(client().get(f"{BASE}/requests.json?start_date=2024-06-01T00:00:00Z&end_date=2024-01-01T00:00:00Z"),
               400)
    spec_error(client().get(f"{BASE}/requests.xml?start_date=yesterday"), 400, "xml")
    spec_error(client().get(f"{BASE}/requests.json?status=pending"), 400)


def test_xml_carries_text_json_would(world, key):
    [created] = post({**REPORT, "api_key": key, "description": "a < b & c\x01 \"quoted\""}).json()
    request = xml(client().get(f"{BASE}/requests/{created['service_request_id']}.xml")).find("request")
    assert request.findtext("description") == "a < b & c \"quoted\""


def test_unknown_resources_and_methods_get_the_spec_error(world):
    spec_error(client().get(f"{BASE}/nothing.json"), 404)
    spec_error(client().get(f"{BASE}/nothing.xml"), 404, "xml")
    spec_error(client().get(f"{BASE}/services.csv"), 404)
    spec_error(client().put(f"{BASE}/requests.json"), 405)
    response = client().delete(f"{BASE}/requests/X.xml")
    spec_error(response, 405, "xml")
    assert response["Allow"] == "GET"
    assert client("nowhere.localhost").get(f"{BASE}/services.json").status_code == 404


# --- keys ----------------------------------------------------------------------------------


def test_create_key_prints_the_key_alone(world):
    out = StringIO()
    call_command("open311", "create-key", "--tenant", "shangcheng", "--label", "12345 热线", stdout=out)
    printed = out.getvalue()
    assert printed.count("\n") == 1 and len(printed.strip()) >= 40
    plain = printed.strip()
    with tenant_context(world.shangcheng):
        assert keys.key_valid(plain)
        row = Open311Key.objects.get(label="12345 热线")
        assert plain not in row.key_hash and len(row.key_hash) == 64
        assert AuditEntry.objects.filter(action="open311.key_create", target_id=str(row.pk)).exists()
    with tenant_context(world.yuhang):
        assert not keys.key_valid(plain)

    listing = StringIO()
    call_command("open311", "list-keys", "--tenant", "330102", stdout=listing)
    assert f"{row.pk}\t12345 热线\t" in listing.getvalue() and "active" in listing.getvalue()
    assert plain not in listing.getvalue()
    call_command("open311", "revoke-key", "--tenant", "shangcheng", str(row.pk), stdout=StringIO())
    with tenant_context(world.shangcheng):
        assert not keys.key_valid(plain)
    listing = StringIO()
    call_command("open311", "list-keys", "--tenant", "shangcheng", stdout=listing)
    assert "revoked" in listing.getvalue()
    with pytest.raises(CommandError):
        call_command("open311", "revoke-key", "--tenant", "shangcheng", str(row.pk), stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("open311", "create-key", "--tenant", "atlantis", stdout=StringIO())


def test_the_civicgrid_command_prints_a_usable_key(committed):
    command = [str(Path(sys.executable).parent / "civicgrid"), "open311", "create-key", "--tenant", "shangcheng",
               "--label", "cli-test"]
    env = child_env(DJANGO_SETTINGS_MODULE=settings.SETTINGS_MODULE)  # the settings this run uses
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    try:
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert len(lines) == 1 and " " not in lines[0]
        with tenant_context(committed.shangcheng):
            assert keys.key_for(lines[0]).label == "cli-test"
    finally:
        with tenant_context(committed.shangcheng):
            Open311Key.objects.filter(label="cli-test").delete()

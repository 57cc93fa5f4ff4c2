"""POST /api/v1/registry/verifications/"""

import json

import pytest

from civicgrid.platform.registry.protection import mask_id_number

from .conftest import SHANGCHENG

ROUTES_COVERED = {"api-registry-verifications": "test_api_refuses_another_tenant_and_other_roles"}
URL = "/api/v1/registry/verifications/"


def post(client, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en", **extra)


def test_results_come_back_in_order_and_masked(setup):
    rows = [setup.row("zhang"), setup.row("wang", address="别处", name="王武"),
            {"name": "某人", "id_number": setup.unregistered[0], "address": "某地"},
            {"name": "某人", "id_number": 330106, "address": "某地"}]
    before = setup.audit_count()
    response = post(setup.client("shangcheng_operator"), {"rows": rows})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["rows"] == 4
    assert body["outcomes"] == {"consistent": 1, "different": 1, "not_found": 1, "invalid_id": 1}
    results = body["results"]
    assert [r["outcome"] for r in results] == ["consistent", "different", "not_found", "invalid_id"]
    assert [r["line"] for r in results] == [1, 2, 3, 4]
    assert results[1]["differences"] == ["name", "address"]
    assert results[3]["reason"] and results[0]["reason"] == ""
    assert [r["name"] for r in results] == ["张三", "王武", "某人", "某人"]
    clear = [setup.people["zhang"].id_number, setup.people["wang"].id_number, setup.unregistered[0]]
    assert [r["id_number"] for r in results[:3]] == [mask_id_number(v) for v in clear]
    assert not any(v in response.content.decode() for v in clear)
    assert setup.audit_count() == before + 1


def test_scope_applies(setup):
    body = post(setup.client("vf_township"), {"rows": [setup.row("zhang"), setup.row("li")]}).json()
    assert [r["outcome"] for r in body["results"]] == ["consistent", "not_found"]


@pytest.mark.parametrize("body, message", [
    ([{"name": "a", "id_number": "1", "address": ""}], 'a "rows" list'),
    ({"rows": "all of them"}, 'a "rows" list'),
    ({"people": []}, 'a "rows" list'),
    ({"rows": []}, "no rows"),
    ({"rows": [{"name": "a", "address": ""}]}, "Row 1 has no id_number"),
    ({"rows": [{"name": "a", "id_number": "1", "address": ""}, "x"]}, "Row 2 is not an object"),
    ({"rows": [{"name": ["a"], "id_number": "1", "address": None}]}, "Row 1: name, address must be text"),
    ("{not json", "not valid JSON"),
])
def test_bad_input_is_a_clear_400_and_records_nothing(setup, body, message):
    before = setup.audit_count()
    response = post(setup.client("shangcheng_operator"), body)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert setup.audit_count() == before


def test_every_problem_is_named_up_to_ten(setup):
    rows = [{"name": "a"}] * 30
    errors = post(setup.client("shangcheng_operator"), {"rows": rows}).json()["errors"]
    assert len(errors) == 10 and errors[0].startswith("Row 1 ") and errors[9].startswith("Row 10 ")


def test_at_most_100000_rows_per_call(setup):
    before = setup.audit_count()
    rows = [{"name": "", "id_number": "", "address": ""}] * 100_001
    response = post(setup.client("shangcheng_operator"), {"rows": rows})
    assert response.status_code == 400
    assert "At most 100,000 rows per call; this one has 100,001" in response.json()["detail"]
    assert setup.audit_count() == before


def test_the_message_is_in_the_users_language(setup):
    client = setup.client("shangcheng_operator")
    english = client.post(URL, "[]", content_type="application/json", HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    default = client.post(URL, "[]", content_type="application/json").json()["detail"]
    assert english.startswith("Send a JSON object")
    assert default  # zh-hans by default; the same text until the translator's pass


@pytest.mark.parametrize("username", [
    "yuhang_operator",            # another tenant's staff on this tenant's host
    "shangcheng_gridworker", "vf_auditor", "vf_dept_county", "prov_admin",
])
def test_api_refuses_another_tenant_and_other_roles(setup, username):
    before = setup.audit_count()
    response = post(setup.client(username, SHANGCHENG), {"rows": [setup.row("zhang")]})
    assert response.status_code == 404
    assert setup.people["zhang"].id_number not in response.content.decode()
    assert setup.audit_count() == before


def test_anonymous_is_refused(setup):
    from django.test import Client

    response = post(Client(HTTP_HOST=SHANGCHENG), {"rows": [setup.row("zhang")]})
    assert response.status_code in (401, 403)


def test_a_body_past_the_form_upload_limit_is_accepted(setup, settings):
    # 60,000 rows of realistic length are ~8 MB: more than DATA_UPLOAD_MAX_MEMORY_SIZE,
    # which limits form posts, not the JSON parser's stream.
    row = {"name": "欧阳娜娜", "id_number": "33010619900101123", "address": "杭州市上城区解放路" + "号" * 30}
    body = json.dumps({"rows": [row] * 60_000}, ensure_ascii=False)
    assert len(body.encode()) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = post(setup.client("shangcheng_operator"), body.encode())
    assert response.status_code == 200
    assert response.json()["outcomes"]["invalid_id"] == 60_000


def test_a_body_past_the_endpoints_own_limit_is_refused(setup, monkeypatch):
    from civicgrid.platform.registry.verification import api

    monkeypatch.setattr(api, "MAX_BODY_BYTES", 1024)
    before = setup.audit_count()
    response = post(setup.client("shangcheng_operator"), {"rows": [setup.row("zhang")] * 20})
    assert response.status_code == 400 and "larger than" in response.json()["detail"]
    assert setup.audit_count() == before

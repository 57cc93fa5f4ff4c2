"""Rate limits kept in Redis, per client address and per key, each family answering 429 in
its own error format with Retry-After, in the user's language, and changing nothing:
Open311 POST (per api_key and per address), the verification API (per caller and per
address), the reporter's follow page, sign-in."""

from __future__ import annotations

import itertools
import random

import pytest
from django.test import Client, override_settings
from django.utils import translation
from django_tenants.utils import tenant_context

from civicgrid.platform.api.open311 import keys
from civicgrid.platform.audit.models import AuditEntry
from civicgrid.platform.cases.models import Case
from tests.platform.cases.test_workflow import IN_G01, report

SHANGCHENG = "shangcheng.localhost"
TIGHT = {"open311:post-ip": "3/h", "open311:post-key": "4/h", "verification:ip": "2/h",
         "verification:caller": "3/h", "follow:ip": "3/h", "follow:rate-ip": "1/h"}
OPEN311 = {"service_code": "DSP-NEIGHBOUR", "lat": str(IN_G01["latitude"]), "long": str(IN_G01["longitude"]),
           "description": "限流测试：楼道堆物"}
_addresses = itertools.count(1)


def address() -> str:
    """A fresh client address per use, so runs and tests never share a counter."""
    n = next(_addresses) + random.randrange(1, 250) * 1000
    return f"10.99.{n // 256 % 256}.{n % 256}"


def cases(world) -> int:
    with tenant_context(world.shangcheng):
        return Case.objects.count()


@pytest.fixture
def api_key(world) -> str:
    with tenant_context(world.shangcheng):
        return keys.create_key(label="限流测试")


@override_settings(CIVICGRID_RATE_LIMITS={**TIGHT, "open311:post-key": "10/h"})
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_posts_are_limited_per_address(world, api_key, fmt):
    http = Client(HTTP_HOST=SHANGCHENG, REMOTE_ADDR=address(), HTTP_ACCEPT_LANGUAGE="en")
    answers = [http.post(f"/open311/v2/requests.{fmt}", {**OPEN311, "api_key": api_key}).status_code
               for _ in range(3)]
    assert answers == [201] * 3 or answers == [200] * 3, answers
    before = cases(world)
    refused = http.post(f"/open311/v2/requests.{fmt}", {**OPEN311, "api_key": api_key})
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 3600
    if fmt == "json":
        assert refused.json() == [{"code": 429, "description": refused.json()[0]["description"]}]
        assert "Too many requests" in refused.json()[0]["description"]
    else:
        assert b"<errors><error><code>429</code>" in refused.content
    assert cases(world) == before
    # Guessing keys from there is refused the same way, before any key is looked at.
    assert http.post("/open311/v2/requests.json", {**OPEN311, "api_key": "guess"}).status_code == 429
    # Another address is not held up by this one.
    other = Client(HTTP_HOST=SHANGCHENG, REMOTE_ADDR=address())
    assert other.post("/open311/v2/requests.json", {**OPEN311, "api_key": api_key}).status_code in (200, 201)


@override_settings(CIVICGRID_RATE_LIMITS=TIGHT)
def test_open311_posts_are_limited_per_key_across_addresses(world, api_key):
    for _ in range(4):  # one per address: no address reaches its own limit
        answer = Client(HTTP_HOST=SHANGCHENG, REMOTE_ADDR=address()).post(
            "/open311/v2/requests.json", {**OPEN311, "api_key": api_key})
        assert answer.status_code in (200, 201)
    before = cases(world)
    refused = Client(HTTP_HOST=SHANGCHENG, REMOTE_ADDR=address(), HTTP_ACCEPT_LANGUAGE="zh-hans").post(
        "/open311/v2/requests.json", {**OPEN311, "api_key": api_key})
    assert refused.status_code == 429 and refused["Retry-After"]
    with translation.override("zh-hans"):
        expected = translation.gettext("Too many requests. Try again in %(seconds)s seconds.") % {
            "seconds": refused["Retry-After"]}
    assert refused.json() == [{"code": 429, "description": expected}]
    assert cases(world) == before


@override_settings(CIVICGRID_RATE_LIMITS=TIGHT)
def test_the_verification_api_is_limited_per_address_and_per_caller(world):
    body = {"rows": [{"name": "张三", "id_number": "330102199001011234", "address": "幸福小区"}]}

    def operator(addr):
        http = Client(HTTP_HOST=SHANGCHENG, REMOTE_ADDR=addr, HTTP_ACCEPT_LANGUAGE="en")
        http.force_login(world.user("shangcheng_operator"))
        return http

    def audit_rows():
        with tenant_context(world.shangcheng):
            return AuditEntry.objects.count()

    http = operator(address())
    ok = [http.post("/api/v1/registry/verifications/", body, content_type="application/json").status_code
          for _ in range(2)]
    assert ok == [200, 200]
    before = audit_rows()
    refused = http.post("/api/v1/registry/verifications/", body, content_type="application/json")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert set(refused.json()) == {"detail"} and refused.json()["detail"].startswith("Too many verification")
    # The same caller from a new address: its own limit (3 in all) is reached now.
    refused = operator(address()).post("/api/v1/registry/verifications/", body, content_type="application/json")
    assert refused.status_code == 429
    assert audit_rows() == before  # nothing verified, nothing recorded


@override_settings(CIVICGRID_RATE_LIMITS=TIGHT)
def test_the_follow_page_is_limited_per_address(world):
    with tenant_context(world.shangcheng):
        case = report()
    http = Client(HTTP_HOST=SHANGCHENG, REMOTE_ADDR=address(), HTTP_ACCEPT_LANGUAGE="en")
    assert [http.get(f"/r/{case.token}/").status_code for _ in range(3)] == [200] * 3
    refused = http.get(f"/r/{case.token}/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many tries" in refused.content.decode()
    # Guessing tokens is counted the same: a wrong one does not get a fresh 404.
    assert http.get("/r/00000000-0000-4000-8000-000000000000/").status_code == 429
    # A rating has a tighter limit of its own; refused, nothing is rated.
    rater = Client(HTTP_HOST=SHANGCHENG, REMOTE_ADDR=address(), HTTP_ACCEPT_LANGUAGE="zh-hans")
    rater.post(f"/r/{case.token}/", {"rating": 5})
    refused = rater.post(f"/r/{case.token}/", {"rating": 5})
    assert refused.status_code == 429 and refused["Content-Language"] == "zh-hans"
    with tenant_context(world.shangcheng):
        case.refresh_from_db()
        assert case.rating is None


def test_sign_in_says_when_to_try_again(world):
    from civicgrid.platform.accounts.views import SIGN_IN_RATE

    limit = int(SIGN_IN_RATE.split("/")[0])
    http = Client(HTTP_HOST=SHANGCHENG, REMOTE_ADDR=address())
    for _ in range(limit):
        http.post("/accounts/login/", {"username": f"nobody{random.randrange(10**6)}", "password": "x"})
    refused = http.post("/accounts/login/", {"username": "nobody", "password": "x"})
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 600


@override_settings(CIVICGRID_RATE_LIMITS=TIGHT, CIVICGRID_TRUSTED_PROXIES=1)
def test_behind_the_proxy_each_client_counts_for_itself_and_a_forged_header_does_not_help(world):
    """Every request comes from the proxy's address; the address nginx appended decides."""
    with tenant_context(world.shangcheng):
        case = report()
    client_a, client_b = address(), address()

    def via_proxy(forwarded_for: str):
        return Client(HTTP_HOST=SHANGCHENG, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for)

    assert [via_proxy(client_a).get(f"/r/{case.token}/").status_code for _ in range(3)] == [200] * 3
    assert via_proxy(client_a).get(f"/r/{case.token}/").status_code == 429
    # Claiming another address in front of the real one changes nothing: the last entry counts.
    assert via_proxy(f"{address()}, {client_a}").get(f"/r/{case.token}/").status_code == 429
    assert via_proxy(client_b).get(f"/r/{case.token}/").status_code == 200  # the next client is not held up

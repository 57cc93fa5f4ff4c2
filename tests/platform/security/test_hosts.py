"""Host header validation: a host outside ALLOWED_HOSTS, or allowed but unknown, answers 404
and never another tenant's page; a forwarded host is not believed; a signed-in member sent
to another county's host sees nothing of either. (Production's ALLOWED_HOSTS derive from
the base domain: test_production_settings.)"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.cms.helpers import site

COUNTY_NAMES = ("上城区", "余杭区", "杭州市", "浙江省")


def assert_nobodys_page(response):
    assert response.status_code in (400, 404), response.status_code
    body = response.content.decode()
    assert not any(name in body for name in COUNTY_NAMES), body[:500]


@pytest.mark.parametrize("host", [
    "evil.example.com",  # outside ALLOWED_HOSTS
    "nowhere.localhost",  # allowed by the wildcard, no tenant has it
    "shangcheng.localhost.evil.example.com",
    "shangcheng.localhost@evil.example.com",
    "xingfu.yuhang.localhost",  # a community of another county, not a site here
    "127.0.0.1",
])
def test_unknown_hosts_get_nobodys_page(world, host):
    for path in ("/", "/accounts/login/", "/api/v1/health/", "/open311/v2/services.json", "/cases/"):
        assert_nobodys_page(Client(HTTP_HOST=host).get(path))


def test_a_forwarded_host_is_not_believed(world):
    assert settings.USE_X_FORWARDED_HOST is False
    response = Client(HTTP_HOST="nowhere.localhost", HTTP_X_FORWARDED_HOST="shangcheng.localhost").get("/accounts/login/")
    assert_nobodys_page(response)


def test_a_port_or_case_changes_nothing_but_the_host_decides(world):
    assert Client(HTTP_HOST="shangcheng.localhost:8443").get("/api/v1/health/").json()["tenant"] == "shangcheng"
    assert Client(HTTP_HOST="yuhang.localhost").get("/api/v1/health/").json()["tenant"] == "yuhang"


def test_a_member_on_another_countys_host_sees_neither(world):
    site(world.shangcheng, "T01-C01", "xingfu")
    http = Client(HTTP_HOST="yuhang.localhost")
    http.force_login(world.user("shangcheng_operator"))
    for path in ("/", "/cases/", "/api/v1/me/", "/api/v1/cases/", "/registry/"):
        response = http.get(path)
        assert response.status_code == 404, path
        assert "上城区" not in response.content.decode()
    # The community site of one county answers only its own pages, never the console.
    resident = Client(HTTP_HOST="xingfu.shangcheng.localhost")
    assert resident.get("/api/v1/health/").status_code == 404
    assert resident.get("/cases/").status_code == 404

"""Every site answers with the security headers: the province, a county's console and API,
Open311, a community site, static files, an unknown host's 404 and a NUL refusal. The
Wagtail admin alone allows inline script (its widgets write it), and nothing else."""

from __future__ import annotations

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from tests.cms.helpers import site

SHANGCHENG, PROVINCE, XINGFU = "shangcheng.localhost", "localhost", "xingfu.shangcheng.localhost"


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_secure_headers(response, *, admin: bool = False):
    csp = directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == (["'self'", "'unsafe-inline'"] if admin else ["'self'"])
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'self'"] and csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == (["'self'"] if admin else ["'none'"])
    assert csp["connect-src"] == ["'self'"]  # same-host websockets too (CSP level 3)
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert all("http" not in value for values in csp.values() for value in values)  # no outside source
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    permissions = response["Permissions-Policy"]
    assert "camera=(self)" in permissions and "geolocation=(self)" in permissions
    assert "microphone=()" in permissions


@pytest.mark.parametrize("host, path, status", [
    (PROVINCE, "/", 200),
    (PROVINCE, "/accounts/login/", 200),
    (PROVINCE, "/api/v1/health/", 200),
    (SHANGCHENG, "/accounts/login/", 200),
    (SHANGCHENG, "/api/v1/me/", 403),
    (SHANGCHENG, "/open311/v2/services.json", 200),
    (SHANGCHENG, "/open311/v2/services.xml", 200),
    (SHANGCHENG, "/static/vendor/leaflet/leaflet.js", 200),
    (SHANGCHENG, "/no-such-page/", 404),
    ("nowhere.localhost", "/", 404),  # an unknown host: answered before any tenant is known
    (SHANGCHENG, "/?q=%00", 400),  # refused by the NUL middleware, in front of every view
])
def test_anonymous_answers_carry_the_headers(world, host, path, status):
    response = Client(HTTP_HOST=host).get(path)
    assert response.status_code == status
    assert_secure_headers(response)


@pytest.mark.parametrize("user, path", [
    ("shangcheng_operator", "/"), ("shangcheng_operator", "/cases/"), ("shangcheng_operator", "/map/"),
    ("shangcheng_gridworker", "/m/"), ("shangcheng_operator", "/api/v1/me/"), ("shangcheng_operator", "/registry/"),
    ("shangcheng_admin", "/api-tokens/"),
])
def test_console_pages_carry_the_headers(world, user, path):
    client = Client(HTTP_HOST=SHANGCHENG)
    client.force_login(world.user(user))
    response = client.get(path)
    assert response.status_code == 200, path
    assert_secure_headers(response)
    assert response["X-Frame-Options"] == "DENY"


def test_a_community_site_carries_the_headers(world):
    site(world.shangcheng, "T01-C01", "xingfu")
    response = Client(HTTP_HOST=XINGFU).get("/")
    assert response.status_code == 200
    assert_secure_headers(response)


def test_only_the_wagtail_admin_allows_inline_script(world):
    from civicgrid.cms.actions import sync_site_groups

    site(world.shangcheng, "T01-C01", "xingfu")
    with tenant_context(world.shangcheng):
        sync_site_groups()
    admin = Client(HTTP_HOST=SHANGCHENG)
    admin.force_login(world.user("shangcheng_admin"))
    response = admin.get("/cms-admin/")
    assert response.status_code == 200
    assert_secure_headers(response, admin=True)
    # The same person's console page next door keeps the strict policy.
    assert_secure_headers(admin.get("/"))


def test_no_template_of_ours_writes_inline_script_or_handlers():
    """The strict policy holds because our own markup has no inline script: no <script>
    without src (JSON data islands excepted), no on*= handler, no javascript: URL."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "civicgrid"
    inline = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
    handler = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
    offenders = []
    for template in root.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        if inline.search(text) or handler.search(text) or "javascript:" in text.lower():
            offenders.append(str(template.relative_to(root)))
    assert offenders == []

"""What production settings say about cookies, hosts and API authentication (read from a
process started with them, as the server would be)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.test_settings import STRONG_SECRET

SHOW = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in [
    "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_SSL_REDIRECT",
    "ALLOWED_HOSTS", "SECURE_REFERRER_POLICY", "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY", "X_FRAME_OPTIONS", "DEBUG", "CIVICGRID_TRUSTED_PROXIES",
    "RATELIMIT_IP_META_KEY"]}
    | {"auth": s.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]}))
"""


def production_settings(**env) -> dict:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DATABASE_URL", "REDIS_URL", "S3_ENDPOINT", "SECRET_KEY", "CIVICGRID_DATA_KEY",
                          "ALLOWED_HOSTS", "CIVICGRID_BASE_DOMAIN")}
    clean.update(DJANGO_SETTINGS_MODULE="civicgrid.config.settings.production", DATABASE_URL="postgres://db/x",
                 REDIS_URL="redis://r", S3_ENDPOINT="minio:9000", SECRET_KEY=STRONG_SECRET,
                 CIVICGRID_DATA_KEY="a" * 44, **env)
    done = subprocess.run([sys.executable, "-c", SHOW], env=clean, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_production_cookies_are_secure_httponly_and_lax():
    s = production_settings(CIVICGRID_BASE_DOMAIN="grid.zj.gov.cn")
    assert s["SESSION_COOKIE_SECURE"] is True and s["CSRF_COOKIE_SECURE"] is True
    assert s["SESSION_COOKIE_HTTPONLY"] is True
    assert s["SESSION_COOKIE_SAMESITE"] == "Lax" and s["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert s["SECURE_HSTS_SECONDS"] >= 365 * 24 * 3600 and s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SECURE_SSL_REDIRECT"] is True and s["DEBUG"] is False
    assert s["SECURE_REFERRER_POLICY"] == "same-origin" and s["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert s["SECURE_CROSS_ORIGIN_OPENER_POLICY"] == "same-origin" and s["X_FRAME_OPTIONS"] == "DENY"


def test_production_hosts_come_from_the_base_domain():
    s = production_settings(CIVICGRID_BASE_DOMAIN="grid.zj.gov.cn")
    # The province on the base domain, every county on its subdomains; nothing else but the
    # loopback address the health probe uses.
    assert s["ALLOWED_HOSTS"] == ["grid.zj.gov.cn", ".grid.zj.gov.cn", "127.0.0.1"]
    assert "*" not in s["ALLOWED_HOSTS"]


def test_production_has_no_basic_auth_and_takes_tokens():
    auth = production_settings()["auth"]
    assert auth == ["rest_framework.authentication.SessionAuthentication",
                    "civicgrid.platform.api.tokens.authentication.BearerTokenAuthentication"]
    assert not any("Basic" in name for name in auth)


def test_development_and_tests_keep_basic_auth():
    from django.conf import settings

    assert any("Basic" in name for name in settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"])


def test_production_limits_count_the_client_behind_nginx_not_the_proxy():
    s = production_settings()
    assert s["CIVICGRID_TRUSTED_PROXIES"] == 1
    assert s["RATELIMIT_IP_META_KEY"] == "civicgrid.platform.security.ratelimits.client_address"

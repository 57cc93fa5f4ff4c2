"""The host → tenant answer is kept per process (no query per request) and dropped when a
tenant or a domain changes: at once in the process that changed it, within a second in
the others (a version in Redis), and never kept while Redis cannot be read."""

from __future__ import annotations

import time

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from civicgrid.tenants import hosts
from civicgrid.tenants.models import Domain, Tenant

YUHANG = "yuhang.localhost"


def domain_queries(host: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = Client(HTTP_HOST=host).get("/api/v1/health/")
    assert response.status_code == 200
    return sum("tenants_domain" in q["sql"] for q in queries.captured_queries)


def test_a_host_is_resolved_once_per_process(world):
    assert domain_queries(YUHANG) == 1
    assert domain_queries(YUHANG) == 0
    assert domain_queries("shangcheng.localhost") == 1  # each host once


def test_a_suspension_here_is_seen_by_the_next_request(world):
    assert Client(HTTP_HOST=YUHANG).get("/").status_code == 302  # kept now
    tenant = Tenant.objects.get(division_code="330110")
    tenant.status = Tenant.Status.SUSPENDED
    tenant.save()
    assert Client(HTTP_HOST=YUHANG).get("/").status_code == 503


def test_a_change_made_by_another_process_is_seen_within_a_second(world):
    assert domain_queries(YUHANG) == 1
    # Another process moves the county to a new host: its row changes behind this process's back
    # (no signal here), and it bumps the version in Redis as ``hosts_changed`` does after a commit.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tenants_domain SET domain = 'yuhang-new.localhost' WHERE domain = %s", [YUHANG])
    with schema_context("public"):
        key = cache.make_key(hosts.VERSION_KEY)
    redis.Redis.from_url(settings.REDIS_URL).incr(key)
    time.sleep(hosts.CHECK_SECONDS + 0.1)
    assert Client(HTTP_HOST=YUHANG).get("/api/v1/health/").status_code == 404
    assert domain_queries("yuhang-new.localhost") == 1


def test_a_domain_saved_through_the_models_tells_every_process(world, django_capture_on_commit_callbacks):
    with schema_context("public"):
        key = cache.make_key(hosts.VERSION_KEY)
    client = redis.Redis.from_url(settings.REDIS_URL)
    domain_queries(YUHANG)
    before = int(client.get(key))
    with django_capture_on_commit_callbacks(execute=True):
        Domain.objects.filter(domain=YUHANG).get().save()
    assert int(client.get(key)) == before + 1


def test_nothing_is_kept_while_redis_cannot_be_read(world, settings):
    from tests.conftest import free_port

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
                                   "KEY_FUNCTION": "django_tenants.cache.make_key", "KEY_PREFIX": "cg",
                                   "OPTIONS": {"socket_connect_timeout": 1}}}
    hosts.forget()
    assert domain_queries(YUHANG) == 1
    assert domain_queries(YUHANG) == 1  # read again: a suspension elsewhere would not reach this process

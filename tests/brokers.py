"""Pointing this test process's Celery broker and cache at another Redis for a block: a
server of the test's own that it stops, or a port where nothing listens ("Redis down")."""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from django.core.cache import caches
from django.test import override_settings

from civicgrid.config.celery import app


@contextmanager
def broker(url: str, *, key_prefix: str = "cg"):
    """Broker and default cache at ``url`` for the block, with a short connect timeout."""
    old = app.conf.broker_url
    app.conf.broker_url = url
    forget_connections()
    cache_settings = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                                  "KEY_FUNCTION": "django_tenants.cache.make_key", "KEY_PREFIX": key_prefix,
                                  "OPTIONS": {"socket_connect_timeout": 1}},
                      "sessions": {**settings.CACHES["sessions"], "LOCATION": url}}
    try:
        with override_settings(CACHES=cache_settings):
            caches["default"].close()
            caches["sessions"].close()
            yield
    finally:
        app.conf.broker_url = old
        forget_connections()


def forget_connections():
    """Drop every pooled broker connection (kombu keeps pools per URL, globally)."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None

"""Production settings refuse embedded defaults and the development secret, and pass
Django's deployment checks."""

import os
import subprocess
import sys

import pytest

CHECK = "import django; django.setup(); print('started')"
STRONG_SECRET = "k7Qw9-Zp2Lx8Vr4Nt6Ym1Bc3Dh5Fj0Gs-aE2uI8oP4qW6eR9tY1uI3oP5aS7dF"


def start_production(**env):
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DATABASE_URL", "REDIS_URL", "S3_ENDPOINT", "SECRET_KEY", "CIVICGRID_DATA_KEY")}
    clean.update(env, DJANGO_SETTINGS_MODULE="civicgrid.config.settings.production")
    return subprocess.run([sys.executable, "-c", CHECK], env=clean, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("env, missing", [
    ({}, "DATABASE_URL, REDIS_URL, S3_ENDPOINT, SECRET_KEY, CIVICGRID_DATA_KEY"),
    ({"DATABASE_URL": "postgres://db/x", "REDIS_URL": "redis://r", "SECRET_KEY": "k" * 50,
      "CIVICGRID_DATA_KEY": "a" * 44}, "S3_ENDPOINT"),
])
def test_production_refuses_embedded_defaults(env, missing):
    done = start_production(**env)
    assert done.returncode != 0 and "started" not in done.stdout
    assert "ImproperlyConfigured" in done.stderr and missing in done.stderr


def test_production_refuses_the_development_secret():
    from civicgrid.config.settings.base import DEV_SECRET_KEY

    done = start_production(DATABASE_URL="postgres://db/x", REDIS_URL="redis://r", S3_ENDPOINT="minio:9000",
                            SECRET_KEY=DEV_SECRET_KEY, CIVICGRID_DATA_KEY="a" * 44)
    assert done.returncode != 0 and "SECRET_KEY must be a random value" in done.stderr


def test_production_refuses_a_weak_secret():
    done = start_production(DATABASE_URL="postgres://db/x", REDIS_URL="redis://r", S3_ENDPOINT="minio:9000",
                            SECRET_KEY="s" * 20 + "t" * 30, CIVICGRID_DATA_KEY="a" * 44)
    assert done.returncode != 0 and "SECRET_KEY must be a random value" in done.stderr


def test_production_starts_when_configured():
    done = start_production(DATABASE_URL="postgres://db/x", REDIS_URL="redis://r", S3_ENDPOINT="minio:9000",
                            SECRET_KEY=STRONG_SECRET, CIVICGRID_DATA_KEY="a" * 44)
    assert done.returncode == 0, done.stderr
    assert "started" in done.stdout


def test_production_passes_djangos_deployment_checks():
    """`check --deploy` finds nothing to warn about in production settings."""
    clean = {k: v for k, v in os.environ.items()
             if k not in ("DATABASE_URL", "REDIS_URL", "S3_ENDPOINT", "SECRET_KEY", "CIVICGRID_DATA_KEY")}
    clean.update(DJANGO_SETTINGS_MODULE="civicgrid.config.settings.production", DATABASE_URL="postgres://db/x",
                 REDIS_URL="redis://r", S3_ENDPOINT="minio:9000", SECRET_KEY=STRONG_SECRET,
                 CIVICGRID_DATA_KEY="a" * 44)
    done = subprocess.run([sys.executable, "-m", "civicgrid.cli", "check", "--deploy", "--fail-level", "WARNING"],
                          env=clean, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


@pytest.mark.parametrize("given, handler_formatter", [(None, "json"), ("json", "json"), ("text", None)])
def test_production_logs_json_lines_unless_told_otherwise(given, handler_formatter):
    env = {"CIVICGRID_LOG_FORMAT": given} if given else {}
    clean = {k: v for k, v in os.environ.items() if k != "CIVICGRID_LOG_FORMAT"}
    show = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.LOGGING['handlers']['console'].get('formatter'))")
    done = subprocess.run([sys.executable, "-c", show], capture_output=True, text=True, timeout=60, env={
        **clean, **env, "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings.production", "DATABASE_URL": "postgres://db/x",
        "REDIS_URL": "redis://r", "S3_ENDPOINT": "minio:9000", "SECRET_KEY": STRONG_SECRET, "CIVICGRID_DATA_KEY": "a" * 44})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(handler_formatter)


def test_an_unknown_log_format_refuses_to_start():
    done = start_production(DATABASE_URL="postgres://db/x", REDIS_URL="redis://r", S3_ENDPOINT="minio:9000",
                            SECRET_KEY=STRONG_SECRET, CIVICGRID_DATA_KEY="a" * 44, CIVICGRID_LOG_FORMAT="xml")
    assert done.returncode != 0 and "CIVICGRID_LOG_FORMAT must be one of text, json" in done.stderr

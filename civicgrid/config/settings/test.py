"""Tests: the machine's PostgreSQL and Redis where DATABASE_URL / REDIS_URL are set, else embedded."""

import os
import sys
from pathlib import Path

os.environ.setdefault("CELERY_QUEUE", f"civicgrid-test-{os.getpid()}")
# The suite's sample plugins, installed as distributions (dist-info with entry points):
# two that load, one that fails to import, one that needs a later core. Discovery
# runs when the base settings load, so the path goes first.
SAMPLE_PLUGINS = Path(__file__).resolve().parents[3] / "tests" / "plugins" / "site"
if str(SAMPLE_PLUGINS) not in sys.path:
    sys.path.insert(0, str(SAMPLE_PLUGINS))

from .base import *  # noqa: E402, F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_BEAT_SCHEDULE = {}

# A database of its own per run, so two runs on one machine never drop each other's.
DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}  # noqa: F405
# The suite runs on that one test database: a replica named in the environment would hold the
# real database, not the test's (and mirroring it onto default would only pretend). The replica
# tests build a primary and a streaming replica of their own (tests/tenants/test_replicas.py).
DATABASES.pop("replica", None)  # noqa: F405
CIVICGRID_LOG_PHONE_CODES = True  # tests read residents' one-time codes from the log
# A cache of its own per run: Redis outlives the test database, and an entry from an earlier
# run (Wagtail's renditions, site root paths) would name rows that no longer exist.
# Set once in the environment, so servers and workers a test starts share the run's cache.
os.environ.setdefault("CIVICGRID_TEST_CACHE_PREFIX", f"cg-test-{os.getpid()}")
CACHES["default"]["KEY_PREFIX"] = os.environ["CIVICGRID_TEST_CACHE_PREFIX"]  # noqa: F405
CACHES["sessions"]["KEY_PREFIX"] = os.environ["CIVICGRID_TEST_CACHE_PREFIX"] + "-sessions"  # noqa: F405
# Every test client comes from 127.0.0.1: the suite as a whole would trip the per-address
# limits. Tests of the limits set their own (tests/platform/security/test_rate_limits.py).
CIVICGRID_RATE_LIMITS = {group: "100000/m" for group in CIVICGRID_RATE_LIMITS}  # noqa: F405

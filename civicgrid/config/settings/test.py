"""Tests: the machine's PostgreSQL and Redis where DATABASE_URL / REDIS_URL are set, else embedded."""

import os

os.environ.setdefault("CELERY_QUEUE", f"civicgrid-test-{os.getpid()}")

from .base import *  # noqa: E402, F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_BEAT_SCHEDULE = {}

# A database of its own per run, so two runs on one machine never drop each other's.
DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}  # noqa: F405

"""Tests: the machine's PostgreSQL and Redis where DATABASE_URL / REDIS_URL are set, else embedded."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_BEAT_SCHEDULE = {}

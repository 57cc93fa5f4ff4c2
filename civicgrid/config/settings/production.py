"""Production: refuses to start on embedded defaults or the development secret.

The checks run before the base settings are imported, so production never
starts an embedded server by accident.
"""

import os

from django.core.exceptions import ImproperlyConfigured

_missing = [name for name in ("DATABASE_URL", "REDIS_URL", "S3_ENDPOINT", "SECRET_KEY", "CIVICGRID_DATA_KEY") if not os.environ.get(name)]
if _missing:
    raise ImproperlyConfigured(
        "Production settings need these environment variables (embedded defaults are for "
        f"development only): {', '.join(_missing)}"
    )

from .base import *  # noqa: E402, F403
from .base import DEV_SECRET_KEY, SECRET_KEY  # noqa: E402

if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 40:
    raise ImproperlyConfigured("SECRET_KEY must be a random value of at least 40 characters in production.")

DEBUG = False
SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "true").lower() == "true"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}  # noqa: F405

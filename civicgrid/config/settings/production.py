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
from .base import DEV_SECRET_KEY, SECRET_KEY, logging_settings  # noqa: E402

# Django's own bar for a key (its deployment check W009): 50 characters, 5 different ones at least.
if SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
    raise ImproperlyConfigured("SECRET_KEY must be a random value of at least 50 characters in production.")

DEBUG = False
SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "true").lower() == "true"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HTTPS only: plain HTTP is redirected (the health probe excepted: load balancers and
# Kubernetes ask it over plain HTTP inside the network), and browsers are told to come back
# over HTTPS for a year, on every county's subdomain too. SECURE_HSTS_SECONDS=0 turns it off
# while a new installation's certificates are being proven.
SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "true").lower() == "true"
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health/$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# The browsers' HSTS preload list is for sites on the public internet; a province's platform
# runs on its government network, where that list means nothing.
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W021"]  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}  # noqa: F405
# deploy/nginx.conf sits in front and appends the client's address to X-Forwarded-For: without
# it every client would share the proxy's address and the per-address limits would be global.
CIVICGRID_TRUSTED_PROXIES = int(os.environ.get("CIVICGRID_TRUSTED_PROXIES", "1"))
# Integrations authenticate with API tokens (scoped, expiring, revocable), never with a
# staff member's password: Basic auth is for development and tests only.
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "civicgrid.platform.api.tokens.authentication.BearerTokenAuthentication",
    ],
}
# One JSON object a line for the log collector (docs/operations.md "Logs");
# CIVICGRID_LOG_FORMAT=text gives plain lines back.
CIVICGRID_LOG_FORMAT = os.environ.get("CIVICGRID_LOG_FORMAT", "json")
LOGGING = logging_settings(CIVICGRID_LOG_FORMAT)

"""Settings shared by every environment. Every value comes from the environment.

Unset ``DATABASE_URL`` or ``REDIS_URL`` start embedded servers (see
``civicgrid.config.embedded``); unset ``S3_ENDPOINT`` keeps files on disk.
Production settings refuse all three defaults.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from civicgrid.config import embedded
from civicgrid.platform.monitoring.logs import logging_settings
from civicgrid.plugins.discovery import discover as discover_plugins

BASE_DIR = Path(__file__).resolve().parents[3]
PACKAGE_DIR = BASE_DIR / "civicgrid"
DATA_DIR = embedded.data_dir()

DEV_SECRET_KEY = "civicgrid-dev-only-secret-key-never-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
DEBUG = False

# The public (province) site answers on the base domain; tenants on its subdomains
# by default (``shangcheng.localhost``), though a tenant may carry any domain.
CIVICGRID_BASE_DOMAIN = os.environ.get("CIVICGRID_BASE_DOMAIN", "localhost")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h] or [
    CIVICGRID_BASE_DOMAIN,
    f".{CIVICGRID_BASE_DOMAIN}",
    "127.0.0.1",
]

# --- services ---------------------------------------------------------------

if not os.environ.get("DATABASE_URL"):
    os.environ["DATABASE_URL"] = embedded.ensure_postgres()
if not os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = embedded.ensure_redis()
DATABASE_URL = os.environ["DATABASE_URL"]
REDIS_URL = os.environ["REDIS_URL"]


def database_config(url: str) -> dict:
    return dj_database_url.parse(url, engine="django_tenants.postgresql_backend", conn_max_age=60,
                                 conn_health_checks=True)


DATABASES = {"default": database_config(DATABASE_URL)}
# Optional: a streaming replica of the primary. Dashboards, supervision pages and search read
# from it inside an explicit scope (civicgrid/tenants/replicas.py, docs/scale-out.md); every
# other read and every write goes to the primary. Unset: one database, nothing changes.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = database_config(DATABASE_REPLICA_URL)
    # A replica that does not answer costs a page two seconds at most: then the primary answers.
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 2)
# A replica lagging more than this many seconds is left out: everyone reads from the primary.
CIVICGRID_REPLICA_MAX_LAG = float(os.environ.get("CIVICGRID_REPLICA_MAX_LAG", 30))
# TenantSyncRouter first: it alone decides migrations (and refuses any alias but default, so
# the replica is never migrated). The replica router only routes reads, inside a replica scope.
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter", "civicgrid.tenants.replicas.ReplicaRouter")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- tenancy ----------------------------------------------------------------

TENANT_MODEL = "tenants.Tenant"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "civicgrid.config.urls_public"
ROOT_URLCONF = "civicgrid.config.urls_tenant"
# Onboarding clones this schema; `civicgrid migrate` migrates it before any tenant.
TENANT_BASE_SCHEMA = "tenant_template"
# Off on purpose: it can serve another tenant's rows after a savepoint rollback
# (django-tenants #1262). Session-level pooling only, never PgBouncer transaction mode.
TENANT_LIMIT_SET_CALLS = False

SHARED_APPS = [
    "django_tenants",
    "daphne",
    "civicgrid.tenants",
    "civicgrid.province",  # province pages, tenant health, the daily aggregates tenants publish, the demo
    "civicgrid.platform.accounts",
    "civicgrid.platform.audit",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "channels",
    "civicgrid.platform.console",
    "civicgrid.platform.api",  # no models: its management commands (open311)
    "civicgrid.plugins",  # catalog, activations, usage, statements
    "captcha",  # the server-side challenge on the community sites' public forms
    # Sign-in: lockout after failures, and a second factor (TOTP, with recovery codes).
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]
# Content types live in public only, beside auth's permissions that point at them: Wagtail's
# page permissions (in each tenant) refer to both.
TENANT_APPS = [
    "civicgrid.platform.org",
    "civicgrid.platform.accounts.staff",
    "civicgrid.platform.registry",
    "civicgrid.platform.registry.imports",
    "civicgrid.platform.registry.verification",
    "civicgrid.platform.audit",
    "civicgrid.platform.files",
    "civicgrid.platform.notifications",
    "civicgrid.platform.cases",
    "civicgrid.platform.api.tokens",  # API tokens per integration (Bearer), in each county's schema
    "civicgrid.search",
    # Community home sites: Wagtail and what it needs, in every tenant schema.
    "taggit",
    "modelcluster",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "civicgrid.cms",
]
# Installed plugins join the tenant apps (their tables exist in every schema; activation
# decides behaviour). A plugin that fails to load is listed with its reason, never fatal.
PLUGINS = discover_plugins()
TENANT_APPS += PLUGINS.app_paths()
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
# The console's "Sign out" posts here without a next page: back to the sign-in page.
LOGOUT_REDIRECT_URL = "accounts:login"

# --- sign-in (等保 level 3: lockout, a second factor, password rules, idle timeout) ---

# Axes first: a locked-out account is refused before its password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords lock the account for 30 minutes, from any address (an attacker
# spreading guesses over many addresses is stopped too); a success clears the count.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
# Not by address: a township office signs in from behind one NAT address, and five typos
# there would lock out everyone in it (axes.W006 says so; the per-address limit on the
# sign-in form is a rate limit instead, not a lockout).
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False
OTP_TOTP_ISSUER = "CivicGrid"
# Each wrong code doubles the wait before the next try (django-otp's throttling).
OTP_TOTP_THROTTLE_FACTOR = 1
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "civicgrid.platform.accounts.passwords.CharacterClassesValidator"},
]
# A session ends after 30 idle minutes, after 12 hours whatever happens, and with the browser.
SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
SESSION_COOKIE_AGE = 12 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# Lax: a link from elsewhere still opens the console signed in, but no other site's form
# or script sends the cookies with a POST. CSRF's cookie stays readable by script on
# purpose: 平安通's offline queue (console/static/console/worker/app.js) sends it as
# X-CSRFToken when it replays a report; the protection is the token's pairing, not secrecy.
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False

# --- security headers (civicgrid.platform.security.headers) -------------------

# Only the site's own sources: every script, style, font, map tile and socket is served by
# the site itself (government networks have no internet). No inline script anywhere.
# Styles allow 'unsafe-inline': templates carry style attributes (a progress bar's width
# drawn by the server, a card's width) and page-local <style> blocks, Leaflet positions its
# tiles and htmx adds its indicator style at run time. Inline style cannot run code; with
# script locked down, the leftover risk (CSS reading attribute values) is accepted.
# 'self' covers ws:/wss: to the same host in CSP level 3 (the console's live socket).
# blob: for images: the case form and 平安通 preview a chosen photo before it is sent;
# data: for the few inline SVG icons of the vendored libraries.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "frame-src": ["'self'"],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
    },
}
# Camera and position for the site itself (平安通 takes photos and the phone's position);
# nothing else a page could ask a browser for.
PERMISSIONS_POLICY = {
    "camera": ["self"],
    "geolocation": ["self"],
    "microphone": [],
    "payment": [],
    "usb": [],
    "serial": [],
    "bluetooth": [],
    "midi": [],
    "display-capture": [],
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

MIDDLEWARE = [
    # First, so every answer is counted and timed (/metrics) and every log line of the request
    # carries its id, tenant and route.
    "civicgrid.platform.monitoring.middleware.ObserveRequestsMiddleware",
    # Next, so every answer carries the security headers, even an unknown host's 404.
    "civicgrid.platform.security.headers.SecurityHeadersMiddleware",
    # Next: a request that met the database or the file store down gets 503 and a sentence
    # in its language instead of a bare 500 (civicgrid.platform.security.outage).
    "civicgrid.platform.security.outage.ServiceUnavailableMiddleware",
    # /metrics for Prometheus with its token, before the host is taken for a tenant's: a scrape
    # names a pod by its address (civicgrid.platform.monitoring.middleware).
    "civicgrid.platform.monitoring.middleware.MetricsEndpointMiddleware",
    "civicgrid.tenants.middleware.TenantFromHostMiddleware",
    # 400 for a NUL character in any text of the request (PostgreSQL refuses NUL in text).
    "civicgrid.platform.security.middleware.RefuseNulCharactersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "civicgrid.platform.accounts.middleware.IdleSessionTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "civicgrid.platform.accounts.middleware.TenantMembershipMiddleware",
    # Whoever must have a second factor sees nothing but its pages until it is given.
    "civicgrid.platform.accounts.middleware.SecondFactorMiddleware",
    "civicgrid.cms.middleware.CmsAdminMembershipMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # With a replica: a signed-in user's request that wrote records the primary's WAL position,
    # so their next dashboards and searches read from the primary until the replica has it.
    # Inside the session middleware, whose saves are not writes anyone reads back.
    "civicgrid.tenants.replicas.ReadYourWritesMiddleware",
    # Last, as axes asks: it turns a lockout raised by the backend into the lockout page.
    "axes.middleware.AxesMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "civicgrid.platform.console.context_processors.site",
            ],
        },
    }
]

WSGI_APPLICATION = "civicgrid.config.wsgi.application"
ASGI_APPLICATION = "civicgrid.config.asgi.application"

# --- cache, sessions, channels ---------------------------------------------

# Every alias carries the schema in its keys (django-tenants #1052, #599).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "KEY_PREFIX": "cg",
        # A Redis that hangs fails a cache call in seconds; callers treat the cache as optional.
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    },
    # Copies of the sessions (the rows stay in PostgreSQL, the truth): keys without a schema,
    # a session is one row in public whichever host it came from. A copy is read in well
    # under a millisecond, and a slow Redis falls back to the database after half a second.
    "sessions": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cg-sessions",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    },
}
SESSION_ENGINE = "civicgrid.platform.accounts.sessions"
CHANNEL_LAYERS = {
    "default": {
        # channels-redis, plus leaving groups after Redis comes back (notifications/layer.py).
        "BACKEND": "civicgrid.platform.notifications.layer.NotificationChannelLayer",
        "CONFIG": {
            "hosts": [{
                "address": REDIS_URL,
                # Above the 5 s channels-redis blocks in BZPOPMIN: at redis-py's default (5 s) an
                # idle console's socket would time out reading and be closed every few seconds.
                "socket_timeout": 15,
                "socket_connect_timeout": 5,
                # redis-py refuses an operation past the pool's size instead of waiting: a
                # thousand consoles leaving at once (a restart) must not fail to leave their groups.
                "max_connections": 5000,
            }],
            "prefix": "cg:asgi",
            # Counted per ASGI process, not per socket: one process's thousands of consoles share
            # one queue in Redis, and past its capacity channels-redis drops messages.
            "capacity": 100_000,
            # A membership nobody renewed for two hours is forgotten: twice the consumers'
            # hourly re-join, and a backstop for an ASGI process that died without leaving.
            "group_expiry": 2 * 3600,
        },
    }
}

# --- Celery -----------------------------------------------------------------


def celery_url(redis_url: str) -> str:
    """Kombu spells a Redis unix socket ``redis+socket://``; redis-py spells it ``unix://``."""
    parsed = urlparse(redis_url)
    if parsed.scheme == "unix":
        return f"redis+socket://{parsed.path}"
    return redis_url


CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = CELERY_BROKER_URL
# Tests give their worker a queue of its own so no other worker on the machine takes their tasks.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "civicgrid")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task in hand when Redis goes away goes on, and is acknowledged on the restarted Redis
# (civicgrid/config/broker.py makes that work). Cancelling it instead, as Celery 6 will by
# default, would kill every running task (a big import) at each Redis blip and leave it for
# the visibility timeout, an hour.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A task taken by a worker that dies (SIGKILL, a lost machine) is not acknowledged (acks_late):
    # Redis gives it to another worker once it has been out this long. Longer than any task runs,
    # or a slow one would be handed out twice (the tasks are idempotent, but the work is wasted).
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", 3600)),
    # Sending a task (after a report's commit) tries the broker once more at once and then
    # gives up: with Redis down, kombu's default retries held each request ~6 s, and what
    # was not sent waits in the outbox for beat's next relay anyway. A worker's own
    # connection retries on its own terms (broker_connection_retry), not these.
    "max_retries": 1,
    "interval_start": 0.1,
    # A Redis that hangs (frozen, swapping, a network dropping packets) instead of refusing:
    # without these a send after a report's commit waited for ever. Above the worker's
    # 1 s BRPOP, which shares the socket.
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULE = {
    "refresh-tenant-health": {
        "task": "civicgrid.tenants.tasks.refresh_all_tenant_health",
        "schedule": 300.0,
    },
    "sweep-cases": {
        "task": "civicgrid.platform.cases.tasks.sweep_all_tenants",
        "schedule": 300.0,
    },
    "early-warnings": {  # today's spikes, flagged once each
        "task": "civicgrid.platform.cases.tasks.early_warning_all_tenants",
        "schedule": 900.0,
    },
    "publish-daily-aggregates": {  # each tenant's figures for yesterday and today, for the province
        "task": "civicgrid.province.tasks.publish_all_aggregates",
        "schedule": 900.0,
    },
    "backfill-thumbnails": {  # photos whose thumbnail task was lost (worker or broker down)
        "task": "civicgrid.platform.cases.tasks.backfill_thumbnails_all_tenants",
        "schedule": 300.0,
    },
    "relay-outboxes": {
        "task": "civicgrid.platform.notifications.tasks.relay_all_outboxes",
        "schedule": 60.0,
    },
    "index-search-queues": {
        "task": "civicgrid.search.tasks.index_all_queued",
        "schedule": 60.0,
    },
    "resend-queued-onboarding": {  # onboarding asked for while the broker was down
        "task": "civicgrid.province.tasks.resend_queued_onboarding",
        "schedule": 300.0,
    },
    "resend-queued-imports": {  # imports queued while the broker was down
        "task": "civicgrid.platform.registry.imports.tasks.resend_queued_imports",
        "schedule": 300.0,
    },
    "unread-to-channels": {
        "task": "civicgrid.plugins.tasks.deliver_all_unread",
        "schedule": 60.0,
    },
    "plugin-jobs": {
        "task": "civicgrid.plugins.tasks.run_all_plugin_jobs",
        "schedule": 60.0,
    },
    "audit-anchor": {  # every schema's audit chain head, published where its rows cannot reach
        "task": "civicgrid.platform.audit.tasks.anchor_all_schemas",
        "schedule": crontab(minute=30, hour=2),
    },
    "audit-archive": {  # each tenant's audit rows older than CIVICGRID_AUDIT_RETENTION_DAYS, monthly
        "task": "civicgrid.platform.audit.tasks.archive_all_tenants",
        "schedule": crontab(minute=0, hour=3, day_of_month=2),
    },
    "plugin-statements": {  # last month's statements, on the 1st
        "task": "civicgrid.plugins.tasks.make_monthly_statements",
        "schedule": crontab(minute=30, hour=2, day_of_month=1),
    },
    "purge-offboarded-tenants": {  # tenants whose offboarding grace period is over, nightly
        "task": "civicgrid.province.tasks.purge_due_tenants",
        "schedule": crontab(minute=0, hour=4),
    },
}

# Tenant backups and offboarding archives (civicgrid tenants backup|offboard): a mounted
# volume in production, kept apart from the data it backs up.
CIVICGRID_BACKUP_DIR = os.environ.get("CIVICGRID_BACKUP_DIR", str(DATA_DIR / "backups"))

# --- audit trail -----------------------------------------------------------

# Audit rows older than this go to the tenant's storage monthly; never below 183 (six months).
CIVICGRID_AUDIT_RETENTION_DAYS = int(os.environ.get("CIVICGRID_AUDIT_RETENTION_DAYS", 365))

# --- object storage ---------------------------------------------------------

S3_ENDPOINT = os.environ.get("S3_ENDPOINT", "")
S3_ACCESS_KEY = os.environ.get("S3_ACCESS_KEY", "")
S3_SECRET_KEY = os.environ.get("S3_SECRET_KEY", "")
S3_BUCKET = os.environ.get("S3_BUCKET", "civicgrid")
S3_SECURE = os.environ.get("S3_SECURE", "false").lower() == "true"
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {
        "BACKEND": "civicgrid.platform.files.storage.TenantS3Storage"
        if S3_ENDPOINT
        else "civicgrid.platform.files.storage.TenantFileSystemStorage",
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True

# --- personal data ---------------------------------------------------------

# base64 of 32 random bytes; derived from SECRET_KEY when unset (development only).
CIVICGRID_DATA_KEY = os.environ.get("CIVICGRID_DATA_KEY", "")

# Uploads through the console; the command line streams files of any size.
CIVICGRID_IMPORT_MAX_UPLOAD_BYTES = int(os.environ.get("CIVICGRID_IMPORT_MAX_UPLOAD_BYTES", 20 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- notifications ------------------------------------------------------------

# A notification still unread after this many seconds goes to the notification channels
# (SMS, WeChat plugins) once; one found older than the second figure is not sent at all.
CIVICGRID_NOTIFY_UNREAD_AFTER = int(os.environ.get("CIVICGRID_NOTIFY_UNREAD_AFTER", 600))
CIVICGRID_NOTIFY_CHANNEL_MAX_AGE = int(os.environ.get("CIVICGRID_NOTIFY_CHANNEL_MAX_AGE", 24 * 3600))
# A subscriber that fails an outbox event is retried by later relays after 30 s, 1 min,
# 2 min, … (at most an hour apart), and becomes a dead letter (`civicgrid outbox
# list-failed`) after this many attempts or this many seconds since it first failed.
CIVICGRID_OUTBOX_RETRY_SECONDS = float(os.environ.get("CIVICGRID_OUTBOX_RETRY_SECONDS", 30))
CIVICGRID_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("CIVICGRID_OUTBOX_MAX_ATTEMPTS", 10))
CIVICGRID_OUTBOX_GIVE_UP_AFTER = int(os.environ.get("CIVICGRID_OUTBOX_GIVE_UP_AFTER", 24 * 3600))

# --- search -----------------------------------------------------------------

ELASTICSEARCH_URL = os.environ.get("ELASTICSEARCH_URL", "")
# One shared index for every tenant (a ``tenant`` field, routing, a filtered alias per tenant).
ELASTICSEARCH_INDEX = os.environ.get("ELASTICSEARCH_INDEX", "civicgrid-cases")
# A search that takes longer is given up: the page falls back to the database filter.
CIVICGRID_SEARCH_TIMEOUT_MS = int(os.environ.get("CIVICGRID_SEARCH_TIMEOUT_MS", 3000))

# --- community home sites (Wagtail) ----------------------------------------------

WAGTAIL_SITE_NAME = "CivicGrid"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", f"http://{CIVICGRID_BASE_DOMAIN}")
WAGTAILADMIN_LOGIN_URL = "accounts:login"
WAGTAIL_I18N_ENABLED = False
WAGTAILADMIN_PERMITTED_LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# Wagtail's Elasticsearch backend shares index names across tenants; the database backend
# keeps each tenant's page index in its own schema. Chinese words are cut by jieba before
# they reach it (civicgrid.cms.words), so its plain "simple" configuration is the right one.
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database", "SEARCH_CONFIG": "simple"}}
WAGTAILIMAGES_IMAGE_MODEL = "cms.SiteImage"
WAGTAILIMAGES_IMAGE_FORM_BASE = "civicgrid.cms.uploads.CleanImageForm"
WAGTAILDOCS_DOCUMENT_FORM_BASE = "civicgrid.cms.uploads.CleanDocumentForm"
WAGTAILIMAGES_EXTENSIONS = ["jpg", "jpeg", "png", "webp"]
WAGTAILDOCS_EXTENSIONS = ["pdf"]
WAGTAILDOCS_SERVE_METHOD = "serve_view"  # through a view: files stay under the tenant's prefix
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAIL_ENABLE_UPDATE_CHECK = False  # government networks have no internet
WAGTAIL_ENABLE_WHATS_NEW_BANNER = False
WAGTAIL_GRAVATAR_PROVIDER_URL = None  # no avatars fetched from the internet
WAGTAILADMIN_RICH_TEXT_EDITORS = {
    "default": {
        "WIDGET": "wagtail.admin.rich_text.DraftailRichTextArea",
        "OPTIONS": {"features": ["h2", "h3", "bold", "italic", "ol", "ul", "link", "document-link", "image"]},
    }
}
# The server-side challenge (django-simple-captcha): a sum drawn as an image, answered once.
CAPTCHA_CHALLENGE_FUNCT = "captcha.helpers.math_challenge"
CAPTCHA_TIMEOUT = 10  # minutes
CAPTCHA_LETTER_ROTATION = (-20, 20)
RATELIMIT_USE_CACHE = "default"
# Proxies in front of the application that append to X-Forwarded-For (production: nginx, 1);
# the per-address limits take the client's address from there (ratelimits.client_address).
CIVICGRID_TRUSTED_PROXIES = int(os.environ.get("CIVICGRID_TRUSTED_PROXIES", "0"))
RATELIMIT_IP_META_KEY = "civicgrid.platform.security.ratelimits.client_address"
# Limits kept in Redis (civicgrid.platform.security.ratelimits.retry_after), per client address
# ("-ip") and per key (an Open311 api_key, an API caller): "count/period".
CIVICGRID_RATE_LIMITS = {
    "open311:post-ip": os.environ.get("CIVICGRID_RATE_OPEN311_IP", "60/m"),
    "open311:post-key": os.environ.get("CIVICGRID_RATE_OPEN311_KEY", "600/h"),
    "verification:ip": os.environ.get("CIVICGRID_RATE_VERIFICATION_IP", "30/m"),
    "verification:caller": os.environ.get("CIVICGRID_RATE_VERIFICATION_CALLER", "300/h"),
    "follow:ip": os.environ.get("CIVICGRID_RATE_FOLLOW_IP", "60/10m"),
    "follow:rate-ip": os.environ.get("CIVICGRID_RATE_FOLLOW_RATE_IP", "10/h"),
}
# django-ratelimit answers 403 through this view: a clear page in the user's language.
RATELIMIT_VIEW = "civicgrid.cms.views.rate_limited"
# One-time codes that confirm a resident's phone are sent by the notification channels'
# ``send_code``; with none able to, they are written to the server log only when this is on.
CIVICGRID_LOG_PHONE_CODES = os.environ.get("CIVICGRID_LOG_PHONE_CODES", "").lower() == "true"

# --- language and time ------------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- REST API ---------------------------------------------------------------

REST_FRAMEWORK = {
    # Session first: an anonymous caller gets 403 as before; a bad token answers 401 itself.
    # Production drops Basic (settings/production.py): integrations use tokens there.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "civicgrid.platform.api.tokens.authentication.BearerTokenAuthentication",
        "civicgrid.platform.api.authentication.PasswordOnlyBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["civicgrid.platform.api.permissions.DenyAll"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CivicGrid API",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The platform's API only: Wagtail's admin API is the editor's own plumbing.
    "PREPROCESSING_HOOKS": ["civicgrid.platform.api.schema.platform_endpoints_only"],
    "ENUM_NAME_OVERRIDES": {
        "PlaceKindEnum": "civicgrid.platform.registry.models.Place.Kind",
        "OrganisationKindEnum": "civicgrid.platform.registry.models.Organisation.Kind",
        "FireUnitKindEnum": "civicgrid.plugins.builtin.fire_safety.models.UnitKind",
        "FoodBusinessKindEnum": "civicgrid.plugins.builtin.food_safety.models.BusinessKind",
        "SchoolKindEnum": "civicgrid.plugins.builtin.school_surroundings.models.SchoolKind",
        "InspectionOutcomeEnum": "civicgrid.plugins.builtin.checklists.models.Outcome",
        "OrgUnitLevelEnum": "civicgrid.platform.org.models.OrgUnit.Level",
        "CaseSourceEnum": "civicgrid.platform.cases.models.Source",
    },
}

# --- onboarding -------------------------------------------------------------

# Steps run inside the onboarding transaction, in the new tenant's schema, after
# the county admin exists. Later modules append theirs (categories, calendar, plugins).
CIVICGRID_ONBOARDING_STEPS: list[str] = [
    "civicgrid.platform.registry.onboarding.seed_care_kinds",
    "civicgrid.platform.cases.onboarding.seed_categories",
    "civicgrid.plugins.actions.enable_for_new_tenant",
    "civicgrid.cms.actions.prepare_tenant_cms",
]

# Plain text for development and `civicgrid run`; production defaults to one JSON object a line
# (civicgrid.platform.monitoring.logs: time, level, logger, message, request id, tenant, route).
CIVICGRID_LOG_FORMAT = os.environ.get("CIVICGRID_LOG_FORMAT", "text")
LOGGING = logging_settings(CIVICGRID_LOG_FORMAT)

# --- monitoring (civicgrid.platform.monitoring, docs/operations.md "Monitoring") --------------

# The bearer token Prometheus sends for /metrics (32 characters at least). Unset, /metrics is a
# 404 like any unknown path.
CIVICGRID_METRICS_TOKEN = os.environ.get("CIVICGRID_METRICS_TOKEN", "")
# Figures read from the database and the broker each time /metrics is scraped.
CIVICGRID_METRICS_COLLECTORS = [
    "civicgrid.platform.monitoring.queues.QueueDepth",
    "civicgrid.platform.notifications.metrics.OutboxBacklog",
]

# Files of a tenant live under tenants/<schema>/, on disk and in object storage alike.
MULTITENANT_RELATIVE_MEDIA_ROOT = "tenants/%s"

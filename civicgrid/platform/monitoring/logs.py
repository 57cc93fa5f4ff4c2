"""Log lines as JSON objects (``CIVICGRID_LOG_FORMAT=json``), one a line, for a log collector.

Each line has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, then what is
known of the work it belongs to: ``request_id``, ``tenant`` (schema) and ``route`` (the URL
pattern's name, never the path) during a request, ``tenant`` in a task or command, and
``exc_info`` with a traceback. Nothing else: the fields are a fixed list, so whatever a
library hands the record besides (Django's ``request`` object, whose text holds the query
string; the database's ``params``) never reaches the line. The message is the code's own
sentence, which never names a person (``tests/platform/security/test_no_personal_data_in_logs.py``).

The module is loaded by the logging configuration, before Django's apps: no model imports.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import uuid
from datetime import UTC, datetime

from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

# What the current request's lines carry; set by monitoring.middleware.ObserveRequestsMiddleware.
_request: contextvars.ContextVar[dict | None] = contextvars.ContextVar("civicgrid_request", default=None)

# A request id from the proxy in front (nginx's $request_id: 32 hex digits; or a UUID) is kept, so
# its access log and ours meet. Anything else in the header is replaced, never copied into a
# line: a client could send a phone number there.
_GIVEN_ID = re.compile(r"[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def request_id_from(header: str | None) -> str:
    return header if header and _GIVEN_ID.fullmatch(header) else uuid.uuid4().hex


def start_request(request_id: str) -> None:
    _request.set({"request_id": request_id})


def describe_request(**fields) -> None:
    """Add what became known (the tenant, the route) to the current request's lines."""
    current = _request.get()
    if current is not None:
        current.update({k: v for k, v in fields.items() if v})


def end_request(**kwargs) -> None:
    """At ``request_finished``: after Django's own "Not Found: …" line, which it writes once
    every middleware has answered."""
    _request.set(None)


def _schema_of_connection() -> str | None:
    """The schema a task or command works in (tenant-schemas-celery sets it per task)."""
    try:
        from django.db import connection

        return getattr(connection, "schema_name", None)
    except Exception:  # settings not loaded yet (a process starting): no tenant to say
        return None


class RequestContextFilter(logging.Filter):
    """Puts the request's id, tenant and route on each record (a task's or command's
    tenant outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _request.get()
        if context is not None:
            for key in ("request_id", "tenant", "route"):
                setattr(record, key, context.get(key))
        else:
            record.request_id = record.route = None
            record.tenant = _schema_of_connection()
        return True


class MaskedPathsFilter(logging.Filter):
    """Django logs each 4xx/5xx as "Not Found: <path>". A path can carry what must not be
    logged (a reporter's follow link is ``/r/<token>/``): such segments are replaced by "…",
    and the query string is dropped."""

    LOGGERS = ("django.request", "django.server")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name in self.LOGGERS and isinstance(record.args, tuple):  # ("Not Found", path)
            record.args = tuple(masked_path(arg) if isinstance(arg, str) and arg.startswith("/") else arg
                                for arg in record.args)
        return True


# A segment that could be a secret or a person's number: a token (16 characters or more) or a
# run of six digits (a phone, an ID number). Record ids and route words stay readable.
_SECRET_LIKE = re.compile(r"^[^/]{16,}$|\d{6}")


def masked_path(path: str) -> str:
    segments = path.split("?", 1)[0].split("/")
    return "/".join("…" if _SECRET_LIKE.search(segment) else segment for segment in segments)


FIELDS = ("request_id", "tenant", "route")


class JsonFormatter(BaseJsonFormatter):
    """python-json-logger's formatter, held to a fixed list of fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("json_ensure_ascii", False)  # Chinese messages stay readable
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.message
        for key in FIELDS:
            if value := getattr(record, key, None):
                log_data[key] = value
        # Only what format() made of the record's own exception and stack, never a dict's keys.
        for key in ("exc_info", "stack_info"):
            if value := message_dict.get(key):
                log_data[key] = value


FORMATS = ("text", "json")


def logging_settings(log_format: str) -> dict:
    """Django's LOGGING: to standard error, plain text (development, ``civicgrid run``) or one
    JSON object a line (production). ``LOG_LEVEL`` (WARNING) sets every library's level,
    ``CIVICGRID_LOG_LEVEL`` (INFO) the platform's own."""
    if log_format not in FORMATS:
        raise ValueError(f"CIVICGRID_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    handler = {"class": "logging.StreamHandler", "filters": ["masked_paths"]}  # text: the message alone
    if log_format == "json":
        handler.update(formatter="json", filters=["masked_paths", "request_context"])
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_context": {"()": "civicgrid.platform.monitoring.logs.RequestContextFilter"},
                    "masked_paths": {"()": "civicgrid.platform.monitoring.logs.MaskedPathsFilter"}},
        "formatters": {"json": {"()": "civicgrid.platform.monitoring.logs.JsonFormatter"}},
        "handlers": {"console": handler},
        "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
        "loggers": {
            "civicgrid": {"level": os.environ.get("CIVICGRID_LOG_LEVEL", "INFO")},
            # channels-redis tells of messages dropped over capacity at INFO: they must be seen.
            "channels_redis": {"level": "INFO"},
        },
    }

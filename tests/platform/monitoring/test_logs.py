"""JSON log lines (CIVICGRID_LOG_FORMAT=json): one object a line with a fixed list of fields, the
request's id, tenant and route on each line of a request, and nothing a library puts on the record
besides. A full run's logs in JSON are searched for personal data in
tests/platform/security/test_no_personal_data_in_logs.py (both formats)."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from civicgrid.platform.monitoring import logs

FIELDS = {"time", "level", "logger", "message", "request_id", "tenant", "route", "exc_info", "stack_info"}


@pytest.fixture
def json_lines():
    """What loggers write through the production handler's filter and formatter, line by line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RequestContextFilter())
    handler.setFormatter(logs.JsonFormatter())
    loggers = [logging.getLogger(name) for name in ("django.request", "civicgrid.test")]
    for logger in loggers:
        logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    for logger in loggers:
        logger.removeHandler(handler)


class Request:
    """Stands for Django's request, whose text names the query string."""

    def __str__(self):
        return "<WSGIRequest: GET '/registry/persons/?phone=13912345678'>"


def test_a_line_is_one_json_object_of_the_fixed_fields_only(json_lines):
    logger = logging.getLogger("civicgrid.test")
    logger.warning("outbox: %s gave up on %s", "a.subscriber", "case.reported",
                   extra={"request": Request(), "params": ["13912345678"], "user": "司马明远"})
    try:
        raise ValueError("broken")
    except ValueError:
        logger.exception("导入失败")
    first, second = json_lines()
    assert set(first) <= FIELDS and {"time", "level", "logger", "message"} <= set(first)
    assert first["level"] == "WARNING" and first["logger"] == "civicgrid.test"
    assert first["message"] == "outbox: a.subscriber gave up on case.reported"
    assert first["time"].endswith("+00:00") and "T" in first["time"]
    assert "13912345678" not in json.dumps(first) and "司马明远" not in json.dumps(first, ensure_ascii=False)
    assert second["message"] == "导入失败" and "ValueError: broken" in second["exc_info"]


def test_a_requests_lines_carry_its_id_tenant_and_route_never_its_query(world, json_lines):
    http = Client(HTTP_HOST="shangcheng.localhost")
    answer = http.get(f"/r/{uuid.uuid4()}/?phone=13912345678")  # no such case: Django logs "Not Found"
    assert answer.status_code == 404
    [line] = [line for line in json_lines() if line["logger"] == "django.request"]
    assert line["level"] == "WARNING" and line["message"].startswith("Not Found: /r/")
    assert line["request_id"] == answer["X-Request-ID"] and len(line["request_id"]) == 32
    assert (line["tenant"], line["route"]) == ("shangcheng", "case-follow")
    assert "13912345678" not in json.dumps(line) and "phone=" not in json.dumps(line)
    # Outside a request the line has no request id; a task's or command's schema is its tenant.
    with schema_context("yuhang"):
        logging.getLogger("civicgrid.test").warning("in a task")
    after = json_lines()[-1]
    assert "request_id" not in after and "route" not in after and after["tenant"] == "yuhang"


def test_the_proxys_request_id_is_kept_when_well_formed():
    nginx, other = uuid.uuid4().hex, str(uuid.uuid4())
    assert logs.request_id_from(nginx) == nginx and logs.request_id_from(other) == other
    for given in (None, "", "短", "13912345678", "330102199001011234", "13912345678 司马明远", "x" * 32, nginx + "0"):
        made = logs.request_id_from(given)
        assert made != given and len(made) == 32 and int(made, 16) >= 0


def test_the_answer_names_its_request_id(world):
    given = uuid.uuid4().hex
    answer = Client(HTTP_HOST="localhost").get("/api/v1/health/", HTTP_X_REQUEST_ID=given)
    assert answer.status_code == 200 and answer["X-Request-ID"] == given
    assert Client(HTTP_HOST="localhost").get("/api/v1/health/")["X-Request-ID"] != given


def test_the_format_is_text_or_json():
    text, as_json = logs.logging_settings("text"), logs.logging_settings("json")
    assert "formatter" not in text["handlers"]["console"]  # the message alone, as before
    assert as_json["handlers"]["console"]["formatter"] == "json"
    assert as_json["formatters"]["json"]["()"] == "civicgrid.platform.monitoring.logs.JsonFormatter"
    with pytest.raises(ValueError, match="CIVICGRID_LOG_FORMAT must be one of text, json"):
        logs.logging_settings("xml")


@pytest.mark.parametrize("log_format", logs.FORMATS)
def test_a_not_found_follow_link_is_logged_without_its_token(world, log_format):
    """Django logs "Not Found: <path>"; a reporter's follow link carries its token in the path."""
    from django.utils.module_loading import import_string

    config = logs.logging_settings(log_format)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    for name in config["handlers"]["console"]["filters"]:
        handler.addFilter(import_string(config["filters"][name]["()"])())
    if log_format == "json":
        handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    token = uuid.uuid4().hex
    try:
        assert Client(HTTP_HOST="shangcheng.localhost").get(f"/r/{token}/?phone=13800138000").status_code == 404
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert "Not Found: /r/…/" in written
    assert token not in written and "13800138000" not in written

"""Property-based requests over an OpenAPI document, sent in-process to the WSGI app.

Schemathesis generates the cases (valid and invalid ones), Hypothesis runs a bounded,
derandomized number per operation (the same cases on every run, nothing written to a
Hypothesis database), and the requests go through Django's real WSGI handler on the
test's own connection, inside the test's transaction: whatever the fuzz creates is
rolled back with it. A case that fails is kept with its request and the server's
traceback; the test reports every failing operation at once.
"""

from __future__ import annotations

import json
import re
import tempfile
import traceback
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

# Hypothesis keeps caches (and would keep a database) beside the tests; not in the tree.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "civicgrid-hypothesis")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# No shrinking: a failure is reported with the case that found it, and a failing run stays
# as short as a passing one (CI's time limit holds either way).
FUZZ_SETTINGS = settings(max_examples=10, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
                         suppress_health_check=list(HealthCheck), print_blob=False)


@dataclass
class Sent:
    method: str
    path: str
    status: int
    content_type: str
    body: bytes
    request: str
    server_error: str = ""

    def describe(self) -> str:
        text = f"{self.method} {self.path} → {self.status} {self.content_type}\n  request: {self.request[:600]}\n" \
               f"  body: {self.body[:600]!r}"
        return text + (f"\n  server: {self.server_error[-1500:]}" if self.server_error else "")


@dataclass
class Findings:
    failures: dict[str, str] = field(default_factory=dict)  # operation → the first problem found
    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)

    def report(self) -> str:
        return "\n\n".join(f"{operation}:\n{problem}" for operation, problem in sorted(self.failures.items()))


class InProcessWSGI(WSGIHandler):
    """Django's WSGI handler on the test's connection: the handler's request signals would
    close the connection (and with it the test's transaction) after each request. (A
    request of Django's test client meanwhile would connect them again.)"""


class WithCookie:
    """The app with a Cookie header on every request: the WSGI test client drops one given
    as a header, and files cookies it is given under the host "localhost" alone."""

    def __init__(self, app, cookie: str | None):
        self.app, self.cookie = app, cookie

    def __call__(self, environ, start_response):
        if self.cookie:
            environ["HTTP_COOKIE"] = self.cookie
        environ.setdefault("REMOTE_ADDR", "127.0.0.1")  # as every server sets it (rate limits key on it)
        return self.app(environ, start_response)


@contextmanager
def in_process_app():
    """The app, with the connection kept open across requests and each request's
    unhandled exception captured (DEBUG is off: the 500 page would not say why)."""
    captured: list[str] = []

    def capture(sender, request=None, **kwargs):
        captured.append(traceback.format_exc())

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    got_request_exception.connect(capture)
    try:
        app = InProcessWSGI()
        app.captured = captured
        yield app
    finally:
        got_request_exception.disconnect(capture)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def without_generated_credentials(schema):
    """Cases carry no made-up session cookie or Basic header: each role's own are sent,
    and a made-up one would only ever test the authentication classes."""
    schema.config.generation.update(with_security_parameters=False)
    return schema


def send(case, app, *, base_url: str, headers: dict) -> Sent:
    app.captured.clear()
    headers = dict(headers)
    cookie = headers.pop("Cookie", None)
    response = case.call(app=WithCookie(app, cookie), base_url=base_url, headers=headers)
    request = response.request
    body = request.body if isinstance(request.body, bytes | type(None)) else str(request.body).encode()
    return Sent(method=case.method.upper(), path=request.path_url, status=response.status_code,
                content_type=(response.headers.get("content-type") or [""])[0], body=response.content,
                request=f"{request.method} {request.url} {(body or b'')[:400]!r}",
                server_error="\n".join(app.captured))


def fuzz(schema, *, callers: dict[str, Callable[[object], Sent | None]], examples: int,
         modes: Iterable[GenerationMode] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
         known_values: Callable[[str], dict[str, list]] = lambda path: {}) -> Findings:
    """Every operation of ``schema``, ``examples`` cases per mode, each case sent once by
    every caller (``callers[name](case)`` sends it and raises AssertionError on a problem):
    generating is the slow part, so each case is generated once for all of them.

    ``known_values(path)`` names real values for path parameters (ids that exist); a case
    takes them instead of made-up ones half the time, so the operation is reached and not
    only its 404."""
    findings = Findings()
    for result in schema.get_all_operations():
        operation = result.ok()
        known = {name: values for name, values in known_values(operation.path).items() if values}
        for mode in modes:
            try:
                _cases(operation, mode, known, callers, findings, examples)()
            except Unsatisfiable:
                pass  # no invalid request exists for this operation (nothing to get wrong)
    return findings


def _cases(operation, mode, known: dict[str, list], callers, findings: Findings, examples: int):
    label = f"{operation.method.upper()} {operation.path}"

    @settings(FUZZ_SETTINGS, max_examples=examples)
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case, data):
        if known and case.path_parameters and data.draw(st.booleans(), label="known ids"):
            for name, values in known.items():
                if name in case.path_parameters:
                    case.path_parameters[name] = data.draw(st.sampled_from(values), label=name)
        findings.cases += 1
        for caller, check in callers.items():
            try:
                sent = check(case)
            except AssertionError as problem:
                findings.failures.setdefault(f"{label} as {caller}", str(problem))
            else:
                if sent is not None:  # None: this caller had nothing to send for this case
                    findings.statuses[sent.status] = findings.statuses.get(sent.status, 0) + 1

    return run


# --- what an error answer must look like --------------------------------------------------


def messages_in(body) -> list[str]:
    """Every message in an error body: ``detail`` (and ``errors``) beside data such as a
    case's status, or else every leaf of the field errors."""
    if isinstance(body, dict) and "detail" in body:
        return _leaves(body["detail"]) + _leaves(body.get("errors"))
    return _leaves(body)


def _leaves(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [m for item in value.values() for m in _leaves(item)]
    if isinstance(value, list):
        return [m for item in value for m in _leaves(item)]
    return []


def is_drf_error(body) -> bool:
    """``{"detail": "…"}``, field errors ``{"field": ["…"], …}`` (nested for nested
    serializers), or a list of messages (non-field errors)."""
    def leaf_ok(value) -> bool:
        if isinstance(value, str):
            return True
        if isinstance(value, list):
            return all(leaf_ok(item) for item in value)
        if isinstance(value, dict):
            return all(isinstance(key, str) and leaf_ok(item) for key, item in value.items())
        return isinstance(value, int | bool) or value is None  # DRF adds codes and counts beside messages

    if isinstance(body, dict) and "detail" in body:
        return isinstance(body["detail"], str | list | dict) and leaf_ok(body)
    return isinstance(body, dict | list) and bool(messages_in(body)) and leaf_ok(body)


def json_body(sent: Sent):
    assert sent.content_type.split(";")[0].strip() == "application/json", \
        f"a {sent.status} that is not JSON\n{sent.describe()}"
    try:
        return json.loads(sent.body)
    except ValueError:
        raise AssertionError(f"a {sent.status} whose body is not JSON\n{sent.describe()}") from None


def english_leaks(messages: Iterable[str], catalog) -> list[str]:
    """Messages sent as their English source although the catalog has them in Chinese."""
    leaks = []
    for message in messages:
        translated = catalog.get(message)
        if translated and translated != message and not CJK.search(message):
            leaks.append(message)
    return leaks


def chinese_catalog() -> dict[str, str]:
    """The zh-hans catalog as Django merges it (ours, Django's, DRF's): msgid → msgstr."""
    from django.utils.translation import trans_real

    translation = trans_real.translation("zh-hans")
    merged: dict[str, str] = {}
    for catalog in getattr(translation._catalog, "_catalogs", [translation._catalog]):
        for key, value in catalog.items():
            if isinstance(key, str) and "\x04" not in key and isinstance(value, str):
                merged.setdefault(key, value)
    return merged

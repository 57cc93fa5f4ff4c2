"""Fixtures for the fault tests: a stack of real processes of the test's own.

``stack`` gives each test a redis-server on a free port (broker, cache and channel
layer of its web server and workers), and starts on request a gunicorn web server
and Celery workers pointed at it and at the test database; the test stops, kills
and restarts them. The test process itself keeps the machine's Redis for its own
cache; ``stack.sending()`` points its Celery app at the private Redis for the
block, to send what beat would send.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.db import connection
from django_tenants.utils import tenant_context

from civicgrid.config.celery import app
from tests.brokers import broker
from tests.conftest import child_env, free_port
from tests.world import PASSWORD

from .processes import Process, asgi_server, celery_worker, redis_server, web_server

SHANGCHENG = "shangcheng.localhost"
GRID_WORKER = ("shangcheng_gridworker", PASSWORD)  # no second factor: Basic auth is open to it
IN_G01 = {"latitude": 30.245, "longitude": 120.175}
# Seconds after which a task a dead worker had taken goes to another (1 h in production).
VISIBILITY_TIMEOUT = 3


class Stack:
    def __init__(self, log_dir: Path, redis: Process):
        self.log_dir, self.redis = log_dir, redis
        self.redis_url = f"redis://127.0.0.1:{redis.port}/0"
        self.processes: list[Process] = [redis]
        self.channel_log = log_dir / "channel.log"
        self.channel_log.touch()

    def env(self, **extra) -> dict:
        """The children's environment; ``extra`` adds to it or overrides it."""
        defaults = dict(REDIS_URL=self.redis_url, CELERY_QUEUE=app.conf.task_default_queue,
                        SAMPLE_CHANNEL_LOG=str(self.channel_log), CIVICGRID_NOTIFY_UNREAD_AFTER="0",
                        # A killed worker's unacknowledged task comes back to a worker after this.
                        CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY_TIMEOUT))
        return child_env(**{**defaults, **extra})

    def web(self, name: str = "web", preexec=None, **env) -> Process:
        process = web_server(env=self.env(**env), log_dir=self.log_dir, name=name, preexec=preexec)
        self.processes.append(process)
        return process.start()

    def asgi(self, name: str = "asgi", **env) -> Process:
        process = asgi_server(env=self.env(**env), log_dir=self.log_dir, name=name)
        self.processes.append(process)
        return process.start()

    def worker(self, name: str = "worker", *, prefork: int = 0, **env) -> Process:
        process = celery_worker(env=self.env(**env), log_dir=self.log_dir, name=name, prefork=prefork)
        self.processes.append(process)
        return process.start()

    @contextmanager
    def sending(self):
        """This process's Celery app (and cache) on the private Redis for the block."""
        with pointed_at(self.redis_url):
            yield

    @contextmanager
    def as_a_peer(self):
        """Like ``sending``, with the children's own cache keys: what this process writes to
        the cache (a grid or tenant change's version) is what they read."""
        with broker(self.redis_url, key_prefix=settings.CACHES["default"]["KEY_PREFIX"]):
            yield

    def beat(self, *tasks) -> None:
        """What beat sends every minute: each fan-out job once."""
        with self.sending():
            for task in tasks:
                task.apply_async(retry=False)

    def channelled(self) -> list[tuple[str, int]]:
        lines = self.channel_log.read_text().split()
        return [(lines[i], int(lines[i + 1])) for i in range(0, len(lines), 2)]

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log()[-4000:]}" for p in self.processes)

    def close(self) -> None:
        for process in reversed(self.processes):
            process.stop()


@pytest.fixture
def stack(committed, tmp_path):
    yield from _stack(tmp_path, append_only=False)


@pytest.fixture
def append_only_stack(committed, tmp_path):
    """A stack whose Redis keeps its data across a restart (append-only, as in production)."""
    yield from _stack(tmp_path, append_only=True)


def _stack(tmp_path: Path, *, append_only: bool):
    built = Stack(tmp_path, redis_server(free_port(), log_dir=tmp_path, append_only=append_only).start())
    try:
        yield built
    finally:
        built.close()


def pointed_at(url: str):
    return broker(url, key_prefix="cg-faults")


# --- talking to the web server ---------------------------------------------------------


def report_over_http(port: int, title: str, *, photo: bytes | None = None, timeout: float = 30,
                     language: str = "zh-hans", auth=GRID_WORKER, description: str = "故障演练") -> requests.Response:
    """A grid worker's report through the API, as the phone app sends it."""
    url = f"http://127.0.0.1:{port}/api/v1/cases/"
    headers = {"Host": SHANGCHENG, "Accept-Language": language}
    data = {"category": "DSP-NEIGHBOUR", "title": title, "description": description, "source": "grid_worker",
            **{k: str(v) for k, v in IN_G01.items()}}
    if photo is None:
        return requests.post(url, json=data, headers=headers, auth=auth, timeout=timeout)
    return requests.post(url, data=data, files={"photos": ("photo.jpg", photo, "image/jpeg")}, headers=headers,
                         auth=auth, timeout=timeout)


def a_photo(size: tuple[int, int] = (640, 480)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def unique_title(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def eventually(check, *, timeout: float = 60, interval: float = 0.3, stack: Stack | None = None):
    """Wait until ``check()`` returns something true; return it."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {timeout}s: {check.__doc__ or check}\n"
                                 + (stack.logs() if stack else ""))
        time.sleep(interval)


# --- what the world gets back ---------------------------------------------------------------


@pytest.fixture
def sample_plugin_on(committed):
    """The sample plugin switched on in shangcheng: it records each case event it hears
    (``HeardEvent``, one row per call, so a second delivery shows) and offers a channel."""
    from civicgrid.plugins import actions
    from civicgrid.plugins.catalog import sync_catalog

    sync_catalog()
    actions.publish_plugin(plugin_id="sample", published=True, acting_user=None)
    actions.enable_plugin(tenant=committed.shangcheng, plugin_id="sample", acting_user=None)
    yield committed
    connection.set_schema_to_public()
    actions.disable_plugin(tenant=committed.shangcheng, plugin_id="sample", acting_user=None)
    committed.shangcheng.active_plugins = []


def discard_cases(world, prefix: str) -> None:
    """Remove what a test's reports made in shangcheng (the world is shared by later tests)."""
    from sample_plugin.models import HeardEvent

    from civicgrid.platform.cases.models import Case
    from civicgrid.platform.notifications.models import Notification, OutboxEvent
    from civicgrid.plugins.models import UsageRecord
    from civicgrid.search.models import IndexQueue

    with tenant_context(world.shangcheng):
        cases = list(Case.objects.filter(title__startswith=prefix).values_list("pk", "number"))
        ids, numbers = [pk for pk, _ in cases], [number for _, number in cases]
        OutboxEvent.objects.filter(payload__case_id__in=ids).delete()
        Notification.objects.filter(case_id__in=ids).delete()
        OutboxEvent.objects.filter(topic="notifications.stored", delivered_at__isnull=True).delete()
        IndexQueue.objects.filter(case_id__in=ids).delete()
        HeardEvent.objects.filter(case_number__in=numbers).delete()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM search_casedocument WHERE case_id = ANY(%s)", [ids])
        Case.objects.filter(pk__in=ids).delete()
    connection.set_schema_to_public()
    UsageRecord.objects.filter(idempotency_key__in=[f"reported:{pk}" for pk in ids]).delete()


@pytest.fixture(autouse=True)
def _fresh_locator():
    from civicgrid.platform.org import geo

    geo.forget_all()
    yield
    geo.forget_all()


@pytest.fixture
def community_operator(committed):
    """A community operator over T01-C01: a grid worker's report there notifies them."""
    from django.contrib.auth.hashers import make_password

    from civicgrid.platform.accounts.actions import create_staff_member
    from civicgrid.platform.accounts.models import User
    from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
    from civicgrid.platform.org.models import OrgUnit

    with tenant_context(committed.shangcheng):
        create_staff_member(username="fault_community", password_hash=make_password(PASSWORD),
                            role=StaffRole.COMMUNITY_OPERATOR, scope_org_unit=OrgUnit.objects.get(code="T01-C01"),
                            acting_user=None)
    yield
    with tenant_context(committed.shangcheng):
        StaffProfile.objects.filter(user__username="fault_community").delete()
        User.objects.filter(username="fault_community").delete()
    connection.set_schema_to_public()

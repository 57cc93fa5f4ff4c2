from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from django.db import connection

from tests.world import World, build_world


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker):
    """The test database, plus the world every test starts from (committed once).

    Always the default database: tests that talk to live servers and workers
    use no test transaction, and pytest-django would otherwise skip creating it.
    """
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        pytest.world = build_world()
        give_world_authenticators()
    yield
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        teardown_databases(config, verbosity=0)


def give_world_authenticators():
    from civicgrid.platform.accounts.models import User
    from tests.two_factor import give_authenticator

    for user in User.objects.all():
        give_authenticator(user)


@pytest.fixture(scope="session", autouse=True)
def _force_login_passes_second_factor():
    """``force_login`` skips the password, so it skips the second factor too; the pages of
    the second factor are tested by signing in through them (tests/platform/accounts)."""
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tests.two_factor import give_authenticator, verify_session

    original = Client.force_login

    def force_login(self, user, backend=None):
        original(self, user, backend)
        if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            give_authenticator(user)
        verify_session(self)

    Client.force_login = force_login
    yield
    Client.force_login = original


@pytest.fixture
def world(django_db_setup, db) -> World:
    return pytest.world


@pytest.fixture
def committed(django_db_setup, django_db_blocker) -> World:
    """No test transaction: what the test writes is seen at once by servers and
    workers in other processes. Tests using it clean up after themselves."""
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        yield pytest.world


@pytest.fixture(autouse=True)
def _back_to_public():
    yield
    connection.set_schema_to_public()
    # Hosts resolved during the test may name tenants and domains its rollback removed.
    from civicgrid.tenants import hosts

    hosts.forget()
    # The world's tenant objects outlive each test's rolled-back transaction: a plugin a
    # test switched on must not stay on in the next test's tenant_context.
    world = getattr(pytest, "world", None)
    for tenant in (world.province, world.city, world.shangcheng, world.yuhang) if world else ():
        tenant.active_plugins = []


def database_url() -> str:
    """A URL for the test database, for child processes (servers, workers)."""
    s = connection.settings_dict
    host = s["HOST"] or s.get("OPTIONS", {}).get("host") or ""
    if not host:
        raise RuntimeError("the test database has no host; children could not reach it")
    if host.startswith("/"):  # a Unix socket directory (the embedded server)
        return f"postgresql://{s['USER']}@{quote(host, safe='')}/{s['NAME']}"
    return f"postgresql://{s['USER']}@{host}:{s['PORT'] or 5432}/{s['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {port}")


def child_env(**extra) -> dict:
    return {**os.environ, "DATABASE_URL": database_url(),
            "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings.test", **extra}


@contextmanager
def running(command: list[str], *, port: int | None = None, ready=None, env=None):
    process = subprocess.Popen(command, env=env or child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        if port is not None:
            wait_for_port(port, process)
        if ready is not None:
            ready(process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def asgi_server(django_db_setup):
    """daphne serving the ASGI app against the test database."""
    port = free_port()
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
               "civicgrid.config.asgi:application"]
    with running(command, port=port):
        yield port


def forget_pending_relays() -> None:
    import redis
    from django.conf import settings

    from civicgrid.platform.notifications.outbox import RELAY_PENDING_KEY

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"*{RELAY_PENDING_KEY}"):
        client.delete(key)


@pytest.fixture(scope="session")
def celery_worker(django_db_setup):
    """A real Celery worker on this session's own queue."""
    from civicgrid.config.celery import app

    command = [sys.executable, "-m", "celery", "-A", "civicgrid.config.celery", "worker", "--pool=solo",
               "--loglevel=INFO", "--hostname", f"test-{os.getpid()}@%h", "-Q", app.conf.task_default_queue]

    def ready(process):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(process.stdout.read().decode())
            if app.control.ping(destination=[f"test-{os.getpid()}@{socket.gethostname()}"], timeout=1):
                return
        raise TimeoutError("the Celery worker did not answer")

    app.control.purge()  # tasks queued while the world was built (health refreshes) go nowhere
    forget_pending_relays()  # their relays were purged with them: let the next event ask again
    with running(command, ready=ready) as process:
        yield process

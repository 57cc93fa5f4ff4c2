"""Live notifications benchmark: 1,000 connected websocket clients in one county.

Run from the repository root with a PostgreSQL server and Redis available:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    REDIS_URL=redis://127.0.0.1:6379/11 \
    .venv/bin/python bench/realtime.py

DATABASE_URL only says which server to use: everything happens in a scratch database,
``civicgrid_bench_realtime`` (BENCH_DB overrides it), dropped at the end unless
BENCH_KEEP=1. Redis at REDIS_URL carries the Celery broker (on a queue of this run's
own, CELERY_QUEUE, so no other worker on the machine takes its tasks) and the channel
layer. BENCH_CLIENTS sockets (default 1,000), BENCH_DISPATCHES timed dispatches
(default 500) at BENCH_RATE per second (default 10: the point is latency, not a flood).

Not timed: migrating; a province, a city and one county with the demo org tree;
departments up to 50 in the county (the org app's ``create_department``); BENCH_CLIENTS
department handlers spread evenly over the 50 (20 each at the default), one command
operator, and a database session for every handler (the session rows a sign-in writes,
written in bulk); every case reported by the operator and accepted (the real actions)
before any server starts, the outbox those steps filled relayed and the search index
they queued drained (so this month's index partition exists before the run).

Then, as in production (production settings, DJANGO_SETTINGS_MODULE the same for every
process; object storage is named but never contacted, nothing here stores a file): one
daphne process serving ``civicgrid.config.asgi:application``, a Celery
worker (prefork, concurrency 2), and a client process (``bench/realtime_clients.py``,
asyncio and ``websockets``) that opens every handler's socket to /ws/notifications/
with the county's Host header and the handler's session cookie, and waits for each
hello. Ten warm-up dispatches (not counted) reach both pool processes of the worker.

Timed: for each of BENCH_DISPATCHES cases, this process calls
``cases.actions.dispatch_case`` (round robin over the 50 departments) in the county's
schema; the moment is taken by the first on-commit hook of its transaction, i.e. just
after COMMIT returned and before the relay request is sent to the broker. From there:
the relay request, the worker's ``relay_outbox``, the nudges through Redis, daphne's
consumer, the socket. The worker also indexes each dispatched case for search (relayed case
events ask for ``index_queued``, coalesced to one task per county a second), as in
production. The client stamps ``time.time()`` when a ``case.dispatch``
notification arrives (same machine, same clock). Expected deliveries come from the
database (the case.dispatch notifications stored for each case: its department's
handlers); lost = expected − received; "wrong socket" counts notifications received by
a user who was not a recipient (must be 0).

Also printed, to tell where the time goes: a probe in this process (a plain
channel-layer receiver in the user group of one handler per department) gives commit →
nudge readable from Redis, without daphne; the worker runs at log level INFO, so its log
has each ``relay_outbox`` task's duration and channels-redis's "over capacity" lines
(messages it dropped); a sampler reads every 0.2 s how many tasks wait in the
Celery queue and how many messages wait in the channel layer for daphne (all sockets of
one process share one queue there, of the layer's capacity). Seconds each process spent
on a CPU and runnable but waiting for one (Linux schedstat) over the timed phase: on a
busy machine the second shows how much it was held back; exceptions in daphne's log before, during and after the run (the
end closes every socket at once). The logs stay in a temporary directory, printed.

Goal: notification p99 ≤ 200 ms with 1,000 clients, and no message lost.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import os
import re
import resource
import secrets
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import machine_line, run_in_scratch_database, version_of  # noqa: E402

HOST = "shangcheng.localhost"
CLIENTS = int(os.environ.get("BENCH_CLIENTS", 1000))
DISPATCHES = int(os.environ.get("BENCH_DISPATCHES", 500))
RATE = float(os.environ.get("BENCH_RATE", 10))
DEPARTMENTS = 50
WARMUP = 10
DRAIN_SECONDS = 15.0
CONNECT_CONCURRENCY = 50
GOAL_P99_MS = 200.0
CATEGORY = "DSP-NEIGHBOUR"
IN_G01 = {"latitude": 30.245, "longitude": 120.175}
BENCH_DIR = Path(__file__).resolve().parent
REPOSITORY = BENCH_DIR.parent


def main() -> int:
    raise_open_files()
    os.environ.setdefault("CELERY_QUEUE", "civicgrid-bench-realtime")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings.production")
    if os.environ["DJANGO_SETTINGS_MODULE"].endswith(".production"):
        # Nothing here stores a file: object storage is named but never contacted.
        for name, value in (("SECRET_KEY", secrets.token_urlsafe(50)),
                            ("CIVICGRID_DATA_KEY", base64.b64encode(secrets.token_bytes(32)).decode()),
                            ("S3_ENDPOINT", "http://127.0.0.1:9"), ("S3_ACCESS_KEY", "bench"),
                            ("S3_SECRET_KEY", "benchbench"), ("SESSION_COOKIE_SECURE", "false"),
                            ("SECURE_SSL_REDIRECT", "false")):
            os.environ.setdefault(name, value)
    return run_in_scratch_database("civicgrid_bench_realtime", run)


def raise_open_files() -> None:
    """1,000 sockets and the servers' own connections need more than 1,024 descriptors;
    the children inherit the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


# --- the world ------------------------------------------------------------------


def build_world() -> dict:
    import io
    from datetime import timedelta

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from django.utils.crypto import get_random_string
    from django_tenants.utils import tenant_context

    from civicgrid.platform.accounts.actions import create_staff_member
    from civicgrid.platform.accounts.staff.models import StaffRole
    from civicgrid.platform.cases.actions import accept_case, report_case
    from civicgrid.platform.cases.models import Source
    from civicgrid.platform.notifications.outbox import relay
    from civicgrid.platform.org.actions import create_department
    from civicgrid.platform.org.demo import build_demo_tree
    from civicgrid.platform.org.models import Department
    from civicgrid.province.onboarding import ensure_province, onboard_tenant
    from civicgrid.search.indexing import drain as index_drain

    started = time.perf_counter()
    call_command("migrate_all", verbosity=0, no_progress=True, stdout=io.StringIO())
    ensure_province(name="浙江省", division_code="330000", domain="localhost")
    onboard_tenant(name="杭州市", division_code="330100", level="city", domain="hangzhou.localhost",
                   admin_password="x" * 12, acting_user=None)
    county = onboard_tenant(name="上城区", division_code="330102", level="county", parent_code="330100",
                            domain=HOST, admin_password="x" * 12, acting_user=None).tenant
    print(f"setup   migrate + province + city + county took {time.perf_counter() - started:.1f}s", flush=True)

    started = time.perf_counter()
    password_hash = make_password("x" * 12)  # hashed once for everyone
    with tenant_context(county):
        build_demo_tree(center=(120.17, 30.24))
        seeded = list(Department.objects.filter(level=Department.Level.COUNTY, is_active=True).order_by("code"))
        departments = seeded[:DEPARTMENTS]
        for k in range(len(departments) + 1, DEPARTMENTS + 1):
            departments.append(create_department(code=f"D-BENCH-{k:02d}", name=f"压测部门{k:02d}", acting_user=None))
        handlers = []  # (user_id, username, department code)
        for i in range(CLIENTS):
            department = departments[i % DEPARTMENTS]
            profile = create_staff_member(username=f"bench_h{i:04d}", password_hash=password_hash,
                                          role=StaffRole.DEPARTMENT_HANDLER, scope_department=department,
                                          acting_user=None)
            handlers.append((profile.user_id, profile.user.username, department.code, profile.user))
        operator = create_staff_member(username="bench_operator", password_hash=password_hash,
                                       role=StaffRole.COMMAND_OPERATOR, acting_user=None)
    # Sessions as a sign-in writes them (the auth keys, signed with SECRET_KEY), in bulk.
    connection.set_schema_to_public()
    backend = "django.contrib.auth.backends.ModelBackend"
    expires = timezone.now() + timedelta(days=1)
    store = SessionStore()
    sessions, rows = {}, []
    for user_id, _username, _code, user in handlers:
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {SESSION_KEY: str(user_id), BACKEND_SESSION_KEY: backend, HASH_SESSION_KEY: user.get_session_auth_hash()}
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expires))
        sessions[user_id] = key
    Session.objects.bulk_create(rows, batch_size=500)
    print(f"setup   {len(departments)} departments ({len(seeded)} seeded), {CLIENTS} handlers "
          f"({CLIENTS // DEPARTMENTS} per department), 1 command operator, {len(rows)} sessions "
          f"in {time.perf_counter() - started:.1f}s", flush=True)

    started = time.perf_counter()
    with tenant_context(county):
        cases = []
        for i in range(WARMUP + DISPATCHES):
            case = report_case(staff=operator, category=CATEGORY, title=f"实时推送压测 楼道堆物 {i}",
                               source=Source.HOTLINE_12345, **IN_G01)
            accept_case(staff=operator, case_id=case.pk)
            cases.append((case.pk, case.number))
        relayed = relay()  # what the setup put in the outbox, before any worker or socket is there
        # ... and the search index those events queued (this month's partition made now, not in the run).
        indexed = index_drain()
    print(f"setup   {len(cases)} cases reported and accepted, {relayed} outbox events relayed, {indexed} cases "
          f"indexed for search in {time.perf_counter() - started:.1f}s", flush=True)
    return {"tenant": county, "operator": operator, "departments": departments, "cases": cases,
            "clients": [[user_id, username, sessions[user_id]] for user_id, username, _code, _user in handlers]}


# --- children -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], log_path: Path, env: dict | None = None, **kwargs) -> subprocess.Popen:
    log = open(log_path, "w")  # noqa: SIM115 -- the child keeps it; closed when the child is gone
    return subprocess.Popen(command, env={**os.environ, **(env or {})}, cwd=REPOSITORY,
                            stdout=kwargs.pop("stdout", log), stderr=log, start_new_session=True, **kwargs)


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL to the child's own process group (a worker's pool) if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {port}")


def wait_for_worker(app, name: str, process: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {process.returncode}")
        if app.control.ping(destination=[name], timeout=1):
            return
    raise TimeoutError("the Celery worker did not answer")


def read_line(process: subprocess.Popen, timeout: float) -> str:
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        raise TimeoutError("the client process did not answer")
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"the client process exited ({process.poll()})")
    return line.strip()


def ask(process: subprocess.Popen, command: str, timeout: float = 30) -> str:
    process.stdin.write(command + "\n")
    process.stdin.flush()
    return read_line(process, timeout)


def cpu_seconds(pid: int, children: bool = True) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) of a process and, with
    ``children``, its own children (a worker's pool), every thread, from Linux's
    /proc/<pid>/task/*/schedstat: the waiting shows how much a busy machine held it back."""
    import psutil

    running = waiting = 0.0
    try:
        parent = psutil.Process(pid)
        for each in [parent, *(parent.children(recursive=True) if children else [])]:
            for stat in Path(f"/proc/{each.pid}/task").glob("*/schedstat"):
                with contextlib.suppress(OSError, ValueError):
                    ran, waited, _slices = (int(x) for x in stat.read_text().split())
                    running, waiting = running + ran / 1e9, waiting + waited / 1e9
    except psutil.Error:
        return math.nan, math.nan
    return running, waiting


# --- looking on -------------------------------------------------------------------


class Backlog(threading.Thread):
    """Every 0.2 s: how many tasks (relays, search drains) wait in the Celery queue, and how many
    messages wait in the channel layer for a process to receive them (the longest
    ``specific.<process>!`` queue: daphne's, all its sockets share one)."""

    def __init__(self, queue: str, prefix: str):
        import redis

        super().__init__(daemon=True)
        self.client = redis.Redis.from_url(os.environ["REDIS_URL"])
        self.queue, self.pattern = queue, f"{prefix}specific.*!"
        self.stopped = threading.Event()
        self.celery_max = self.channel_max = 0

    def run(self):
        while not self.stopped.wait(0.2):
            try:
                celery = self.client.llen(self.queue)
                channel = max((self.client.zcard(key) for key in self.client.scan_iter(match=self.pattern,
                                                                                        count=1000)), default=0)
            except Exception:  # noqa: BLE001 -- a missed sample is no matter
                continue
            self.celery_max, self.channel_max = max(self.celery_max, celery), max(self.channel_max, channel)

    def stop(self):
        self.stopped.set()
        self.join(5)
        self.client.close()


class Probe(threading.Thread):
    """A plain channel-layer receiver in this process that joins the user group of one
    handler per department: the moment a dispatch's nudge can be read from Redis,
    i.e. commit → relay request → worker → Redis, without daphne."""

    def __init__(self, groups: list[str]):
        from channels.layers import channel_layers

        super().__init__(daemon=True)
        self.layer = channel_layers.make_backend("default")
        self.groups = groups
        self.seen: dict[str, float] = {}  # case number → time.time() the nudge was read
        self.timeouts = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.task = None

    def run(self):
        asyncio.set_event_loop(self.loop)
        self.task = self.loop.create_task(self.listen())
        with contextlib.suppress(asyncio.CancelledError):
            self.loop.run_until_complete(self.task)
        self.loop.close()

    async def listen(self):
        import redis

        channel = await self.layer.new_channel()
        for group in self.groups:
            await self.layer.group_add(group, channel)
        self.ready.set()
        try:
            while True:
                try:
                    message = await self.layer.receive(channel)
                except redis.exceptions.TimeoutError:  # see the note on idle receivers in the output
                    self.timeouts += 1
                    continue
                at = time.time()
                note = message.get("notification") or {}
                if message.get("type") == "nudge.notification" and note.get("topic") == "case.dispatch":
                    self.seen.setdefault(note["number"], at)
        finally:
            for group in self.groups:
                await self.layer.group_discard(group, channel)

    def stop(self):
        if self.task is not None:
            self.loop.call_soon_threadsafe(self.task.cancel)
        self.join(15)


def clear_groups(prefix: str, schema: str) -> tuple[int, int]:
    """Remove this tenant's channel-layer groups from Redis; returns (groups, members) found.
    Scratch databases give the same ids every run, so memberships a run's sockets failed to
    discard would otherwise send this run's nudges to the queues of processes long gone."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        keys = list(client.scan_iter(match=f"{prefix}:group:t.{schema}.*", count=1000))
        members = sum(client.zcard(key) for key in keys)
        for start_at in range(0, len(keys), 500):
            client.delete(*keys[start_at:start_at + 500])
        return len(keys), members
    finally:
        client.close()


class LogMark:
    """Where a child's log stood, so trouble can be told by phase."""

    TROUBLE = ("Traceback", "ERROR", "CRITICAL", "WARNING", "nudges not sent")

    def __init__(self, path: Path):
        self.path = path

    def offset(self) -> int:
        return self.path.stat().st_size

    def lines(self, start: int = 0, end: int | None = None) -> list[str]:
        with open(self.path, "rb") as log:
            log.seek(start)
            data = log.read() if end is None else log.read(end - start)
        return data.decode(errors="replace").splitlines()

    def trouble(self, start: int = 0, end: int | None = None) -> str:
        lines = self.lines(start, end)
        raised = Counter(line.removeprefix("Exception inside application: ") for line in lines
                         if line.startswith("Exception inside application: "))
        other = [line for line in lines if any(word in line for word in self.TROUBLE)
                 and not line.startswith("Traceback")]
        if not raised and not other:
            return "clean"
        found = [f"{n}× consumer raised {text!r}" for text, n in raised.most_common()]
        if other and not raised:
            found.append(f"{len(other)} lines like {other[0][:160]!r}")
        return "; ".join(found)


def task_seconds(lines: list[str], task: str) -> list[float]:
    """Milliseconds each run of ``task`` took, from the worker's INFO log."""
    found = []
    for line in lines:
        match = re.search(rf"\.{task}\[[^\]]+\] succeeded in ([0-9.]+)s", line)
        if match:
            found.append(float(match.group(1)) * 1000)
    return sorted(found)


# --- the run --------------------------------------------------------------------


def percentile(ordered: list[float], q: float) -> float:
    """Nearest rank."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def figures(ordered: list[float]) -> str:
    if not ordered:
        return "n=0"
    return (f"n={len(ordered):,} p50={percentile(ordered, 0.5):.1f}ms p95={percentile(ordered, 0.95):.1f}ms "
            f"p99={percentile(ordered, 0.99):.1f}ms max={ordered[-1]:.1f}ms")


def run() -> None:
    from django.conf import settings
    from django.db import connection, transaction
    from django_tenants.utils import tenant_context

    from civicgrid.config.celery import app
    from civicgrid.platform.cases.actions import dispatch_case
    from civicgrid.platform.notifications.groups import user_group
    from civicgrid.platform.notifications.models import Notification

    queue = os.environ["CELERY_QUEUE"]
    print(f"settings={os.environ['DJANGO_SETTINGS_MODULE']} database={connection.settings_dict['NAME']} "
          f"queue={queue} clients={CLIENTS} dispatches={DISPATCHES} rate={RATE:g}/s", flush=True)
    world = build_world()
    app.control.purge()  # relay requests from the setup: its outbox is already relayed
    schema = world["tenant"].schema_name
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    groups, members = clear_groups(prefix, schema)
    print(f"redis   {members} group memberships of t.{schema}.* found in Redis before the run "
          f"({groups} groups, left by earlier runs), removed", flush=True)
    by_department: dict[str, int] = {}  # department code → its first handler's user id
    for index, (user_id, _name, _session) in enumerate(world["clients"]):
        by_department.setdefault(world["departments"][index % DEPARTMENTS].code, user_id)

    logs = Path(tempfile.mkdtemp(prefix="civicgrid-bench-realtime-"))
    daphne_log, worker_log = LogMark(logs / "daphne.log"), LogMark(logs / "worker.log")
    port = free_port()
    worker_name = f"bench-realtime-{os.getpid()}@{socket.gethostname()}"
    daphne = worker = clients = probe = backlog = None
    try:
        started = time.perf_counter()
        daphne = start([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                        "civicgrid.config.asgi:application"], daphne_log.path)
        # INFO: each task's duration, and channels-redis's "over capacity" lines (messages it dropped).
        worker = start([sys.executable, "-m", "celery", "-A", "civicgrid.config.celery", "worker", "--pool=prefork",
                        "--concurrency=2", "--loglevel=INFO", "--hostname", worker_name, "-Q", queue],
                       worker_log.path)
        wait_for_port(port, daphne)
        wait_for_worker(app, worker_name, worker)
        print(f"servers daphne (one process) on 127.0.0.1:{port}, Celery worker prefork concurrency=2 on queue "
              f"{queue}: ready in {time.perf_counter() - started:.1f}s (logs in {logs})", flush=True)

        spec = logs / "clients.json"
        spec.write_text(json.dumps({"url": f"ws://{HOST}:{port}/ws/notifications/", "port": port,
                                    "concurrency": CONNECT_CONCURRENCY, "clients": world["clients"]}))
        received_path = logs / "received.json"
        clients = start([sys.executable, str(BENCH_DIR / "realtime_clients.py"), str(spec), str(received_path)],
                        logs / "clients.log", stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
        ready = read_line(clients, timeout=600).split()
        if ready[0] != "ready":
            raise RuntimeError(f"the client process said {ready}")
        connected, connect_seconds, failed = int(ready[1]), float(ready[2]), int(ready[3])
        print(f"connect {connected} of {CLIENTS} sockets open with hello in {connect_seconds:.1f}s "
              f"({CONNECT_CONCURRENCY} handshakes in flight), {failed} failed", flush=True)
        probe = Probe([user_group(schema, user_id) for user_id in by_department.values()])
        probe.start()
        if not probe.ready.wait(15):
            raise RuntimeError("the probe did not join its groups")

        departments, cases = world["departments"], world["cases"]
        operator = world["operator"]
        committed: dict[str, float] = {}  # case number → time.time() at commit
        returned: dict[str, float] = {}  # case number → time.time() when dispatch_case returned

        def dispatch(index: int, pk: int, number: str) -> None:
            with transaction.atomic():
                # First on-commit hook of the transaction: runs as soon as COMMIT returned,
                # before the outbox's hook asks the worker to relay.
                transaction.on_commit(lambda: committed.__setitem__(number, time.time()))
                dispatch_case(staff=operator, case_id=pk, department=departments[index % DEPARTMENTS].code)
            returned[number] = time.time()

        with tenant_context(world["tenant"]):
            warm, timed = cases[:WARMUP], cases[WARMUP:]
            for index, (pk, number) in enumerate(warm):
                dispatch(index, pk, number)
                time.sleep(1 / RATE)
            warm_expected = Notification.objects.filter(
                topic="case.dispatch", case_id__in=[pk for pk, _ in warm]).count()
            deadline = time.monotonic() + 10
            while int(ask(clients, "count").split()[1]) < warm_expected and time.monotonic() < deadline:
                time.sleep(0.1)
            print(f"warmup  {len(warm)} dispatches ({warm_expected} deliveries), not counted", flush=True)

            marks = (daphne_log.offset(), worker_log.offset())
            cpu_before = (cpu_seconds(daphne.pid), cpu_seconds(worker.pid), cpu_seconds(clients.pid),
                          cpu_seconds(os.getpid(), children=False))
            backlog = Backlog(queue, prefix)
            backlog.start()
            started = time.perf_counter()
            behind = 0.0
            for index, (pk, number) in enumerate(timed):
                slot = started + index / RATE
                wait = slot - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                else:
                    behind = max(behind, -wait)
                dispatch(WARMUP + index, pk, number)
            dispatching = time.perf_counter() - started
            print(f"dispatch {len(timed)} at {RATE:g}/s planned, {len(timed) / dispatching:.2f}/s achieved "
                  f"(at most {behind * 1000:.0f} ms behind schedule)", flush=True)

            all_expected = Notification.objects.filter(topic="case.dispatch",
                                                       case_id__in=[pk for pk, _ in cases]).count()
            last = time.perf_counter()
            got = 0
            while time.perf_counter() - last < DRAIN_SECONDS:
                got = int(ask(clients, "count").split()[1])
                if got >= all_expected:
                    break
                time.sleep(0.1)
            drained = time.perf_counter() - last
            measured = time.perf_counter() - started
            backlog.stop()
            cpu_after = (cpu_seconds(daphne.pid), cpu_seconds(worker.pid), cpu_seconds(clients.pid),
                          cpu_seconds(os.getpid(), children=False))
            marks_end = (daphne_log.offset(), worker_log.offset())
            probe.stop()
            if ask(clients, "stop", timeout=120) != "done":
                raise RuntimeError("the client process did not finish")
            clients.wait(timeout=30)
            expected = set(Notification.objects.filter(
                topic="case.dispatch", case_id__in=[pk for pk, _ in timed]).values_list("recipient_id",
                                                                                         "case__number"))
            recipients = set(Notification.objects.filter(
                topic="case.dispatch", case_id__in=[pk for pk, _ in cases]).values_list("recipient_id",
                                                                                          "case__number"))
        print(f"drain   {got} of {all_expected} deliveries (warm-up included) {drained:.1f}s after the last dispatch"
              f"{'' if got >= all_expected else f' (stopped waiting after {DRAIN_SECONDS:.0f}s)'}", flush=True)
    finally:
        for thread in (probe, backlog):
            if thread is not None and thread.is_alive():
                thread.stop()
        for process in (clients, worker, daphne):
            stop(process)
        app.control.purge()  # nothing left in the queue for a later worker
        groups, left = clear_groups(prefix, schema)
    print(f"redis   {left} group memberships of t.{schema}.* left in Redis after every socket closed and "
          f"daphne stopped ({groups} groups; sockets that could not leave their groups), removed", flush=True)

    # --- figures ---
    result = json.loads(received_path.read_text())
    timed_numbers = {number for _, number in timed}
    per_case = Counter(number for _, number in expected)
    uneven = {n: c for n, c in per_case.items() if c != CLIENTS // DEPARTMENTS}
    first_receipt: dict[tuple[int, str], float] = {}
    duplicates = wrong = missed = 0
    other_topics = Counter()
    for user_id, topic, number, _nid, was_missed, at in result["records"]:
        if topic != "case.dispatch":
            other_topics[topic] += 1
            continue
        missed += was_missed
        pair = (user_id, number)
        if pair not in recipients:
            wrong += 1
        elif pair in first_receipt:
            duplicates += 1
        else:
            first_receipt[pair] = at
    delivered = [pair for pair in expected if pair in first_receipt]
    closed_at = {user_id: at for user_id, _name, _code, _reason, at in result["closed_early"]}
    lost_pairs = [pair for pair in expected if pair not in first_receipt]
    lost_closed = sum(1 for user_id, number in lost_pairs if closed_at.get(user_id, math.inf) < committed[number])
    lost = len(lost_pairs)
    latencies = sorted((first_receipt[pair] - committed[pair[1]]) * 1000 for pair in delivered)
    probed = sorted((at - committed[number]) * 1000 for number, at in probe.seen.items() if number in timed_numbers)
    relay_request = sorted((returned[n] - committed[n]) * 1000 for n in timed_numbers)
    worker_lines = worker_log.lines(marks[1], marks_end[1])
    print(f"check   {len(expected):,} deliveries expected for {len(timed)} timed dispatches "
          f"({'all' if not uneven else f'NOT all ({len(uneven)} cases differ)'} "
          f"{CLIENTS // DEPARTMENTS} handlers per case, from the stored notifications)", flush=True)
    print(f"latency {figures(latencies)}  (dispatch commit → receipt on the handler's socket)", flush=True)
    print(f"lost    {lost} of {len(expected):,} ({lost_closed} on sockets the server had closed, "
          f"{lost - lost_closed} on open sockets); wrong socket {wrong}; duplicates {duplicates}; "
          f"sent as missed {missed}; other topics {dict(other_topics) or 0}", flush=True)
    codes = Counter(code for _uid, _name, code, _reason, _at in result["closed_early"])
    print(f"sockets {len(result['closed_early'])} closed by the server during the run (codes {dict(codes) or '-'}); "
          f"{len(result['failed'])} failed to open; hello for another user {result['hello_mismatch']}; "
          f"other messages {result['other']}", flush=True)
    print(f"split   commit → nudge readable in Redis (probe: a plain receiver on one handler's group per "
          f"department, in this process): {figures(probed)}", flush=True)
    print(f"        commit → dispatch_case returned (relay request sent): p50={percentile(relay_request, 0.5):.1f}ms "
          f"max={relay_request[-1]:.1f}ms", flush=True)
    print(f"worker  relay_outbox tasks {figures(task_seconds(worker_lines, 'relay_outbox'))}; search index_queued "
          f"tasks (requests coalesced to one per county a second) {figures(task_seconds(worker_lines, 'index_queued'))}",
          flush=True)
    print(f"backlog most tasks waiting in the Celery queue {backlog.celery_max}; most messages waiting "
          f"in one process's channel-layer queue {backlog.channel_max} (its capacity "
          f"{settings.CHANNEL_LAYERS['default']['CONFIG'].get('capacity', 100)}: beyond it channels-redis drops)",
          flush=True)
    over = [line for line in worker_lines if "over capacity" in line]
    print(f"dropped channels-redis 'over capacity' lines in the worker's log during the run: {len(over)}"
          f"{f', first: {over[0][-120:]!r}' if over else ''}", flush=True)
    spent = [(after[0] - before[0], after[1] - before[1]) for before, after in zip(cpu_before, cpu_after, strict=True)]
    print(f"cpu     over the timed {measured:.1f}s, seconds on a CPU / runnable but waiting for one: "
          + ", ".join(f"{name} {ran:.1f}/{waited:.1f}" for name, (ran, waited) in zip(
              ("daphne", "worker (main + pool)", "clients", "this driver"), spent, strict=True)), flush=True)
    print(f"log     daphne before the run: {daphne_log.trouble(0, marks[0])}", flush=True)
    print(f"        daphne during the run: {daphne_log.trouble(marks[0], marks_end[0])}", flush=True)
    print(f"        daphne at the end ({connected:,} sockets closing at once, shutdown): "
          f"{daphne_log.trouble(marks_end[0])}", flush=True)
    print(f"        worker: {worker_log.trouble()}; clients: {LogMark(logs / 'clients.log').trouble()}", flush=True)
    if probe.timeouts:
        print(f"note    the probe's channel-layer receive raised redis TimeoutError {probe.timeouts} times while "
              f"idle (channels-redis blocks 5 s in BZPOPMIN; redis-py's default socket timeout is 5 s)", flush=True)
    p99 = percentile(latencies, 0.99) if latencies else math.inf
    met = p99 <= GOAL_P99_MS and lost == 0 and wrong == 0
    print(f"goal    notification p99 ≤ {GOAL_P99_MS:.0f} ms with {connected} clients, 0 lost: "
          f"{'met' if met else 'MISSED'} (p99 {p99:.1f} ms, lost {lost}, wrong {wrong})", flush=True)
    print(machine_line(f"daphne={version_of('daphne')}", f"channels={version_of('channels')}",
                       f"channels_redis={version_of('channels-redis')}", f"redis-py={version_of('redis')}",
                       f"celery={version_of('celery')}", f"websockets={version_of('websockets')}"), flush=True)


if __name__ == "__main__":
    sys.exit(main())

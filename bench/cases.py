"""Event engine benchmark: reports and dispatches over HTTP.

Run from the repository root with a PostgreSQL server and Redis available:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
    REDIS_URL=redis://127.0.0.1:6379/5 \
    .venv/bin/python bench/cases.py

The platform runs as in production: production settings, gunicorn as deployed
(civicgrid/config/gunicorn.py: a process per core plus one, four threads each;
BENCH_WORKERS overrides the processes; a tree without that file runs 4 sync workers, as
the benchmark did before it) against a
scratch database (``civicgrid_bench_cases``, dropped at the end unless
BENCH_KEEP=1), Redis for the broker and cache, and object storage over the S3
API (moto's server on loopback). A county with the demo tree and the default
departments is onboarded first (not timed).

Timed, each at concurrency BENCH_CONCURRENCY (default 16), one thread per
client, a new connection per request:

* health   -- the floor: an anonymous GET (the host's tenant kept by the process: no query)
* me       -- a signed-in GET of the caller's own profile (session, user, membership)
* reports  -- a grid worker's JSON report (BENCH_REPORTS, default 2,000)
* photo1   -- the same with a 1600×1200 JPEG photo (~1 MB) in a multipart body, one at a
              time (BENCH_PHOTOS_ALONE, default 50): a phone's wait on a quiet server
* photo    -- the same at the run's concurrency (BENCH_PHOTOS, default 300): checked,
              re-encoded and stored; the thumbnail is the worker's, after the commit
* accept   -- the command centre accepts each plain report
* dispatch -- and dispatches it by the routing rule

Prints reports/s with p50/p95/max latency per step, where the machine's CPU went in
each step (``cpu`` lines: gunicorn, PostgreSQL's backends for this database, the S3
server, this client), and how a report compares with the two floors measured in the
same run. BENCH_PROFILE=DIR also records each step's gunicorn workers with py-spy
(collapsed stacks, ``DIR/<step>.txt``; summarise with ``bench/profile_summary.py``).

Goals (issue 14): report throughput ≥ 0.6 × the signed-in GET floor (``me``) of the same
run; report p95 ≤ 150 ms at concurrency 16; a report with a 1 MB photo p95 ≤ 500 ms.
The sweep over 100,000 open cases is timed by ``bench/cases_sweep.py``.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import machine_line, run_in_scratch_database, version_of  # noqa: E402

HOST = "shangcheng.localhost"
CATEGORY = "DSP-NEIGHBOUR"  # routed to D-JUS by the province's defaults
TARGET_SHARE_OF_ME, TARGET_P95_MS, TARGET_PHOTO_P95_MS = 0.6, 150, 500


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on {port}")


@contextmanager
def child(command: list[str], port: int, env: dict | None = None):
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def production_environment(s3_endpoint: str) -> None:
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "civicgrid.config.settings.production",
        "S3_ENDPOINT": s3_endpoint, "S3_ACCESS_KEY": "bench", "S3_SECRET_KEY": "benchbench",
        "S3_BUCKET": "civicgrid-bench", "SECRET_KEY": secrets.token_urlsafe(50),
        "CIVICGRID_DATA_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "SESSION_COOKIE_SECURE": "false", "SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
    })


def main() -> int:
    s3_port = free_port()
    global S3_SERVER
    with child([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)], s3_port) as S3_SERVER:
        urllib.request.urlopen(f"http://127.0.0.1:{s3_port}/", timeout=10).read()
        production_environment(f"http://127.0.0.1:{s3_port}")
        return run_in_scratch_database("civicgrid_bench_cases", run)


# --- the world ------------------------------------------------------------------


def build_world() -> dict:
    from django.core.management import call_command
    from django.test import Client
    from django_tenants.utils import tenant_context

    from civicgrid.platform.accounts.actions import create_staff_member
    from civicgrid.platform.accounts.staff.models import StaffRole
    from civicgrid.platform.org.demo import build_demo_tree
    from civicgrid.province.demo import add_default_departments
    from civicgrid.province.onboarding import ensure_province, onboard_tenant

    call_command("migrate_all", verbosity=0, no_progress=True, stdout=io.StringIO())
    ensure_province(name="浙江省", division_code="330000", domain="localhost")
    onboard_tenant(name="杭州市", division_code="330100", level="city", domain="hangzhou.localhost",
                   admin_password="x" * 12, acting_user=None)
    tenant = onboard_tenant(name="上城区", division_code="330102", level="county", parent_code="330100",
                            domain=HOST, admin_password="x" * 12, acting_user=None).tenant
    with tenant_context(tenant):
        tree = build_demo_tree(center=(120.17, 30.24))
        add_default_departments(tree)
        worker = create_staff_member(username="bench_gridworker", password="x" * 12, role=StaffRole.GRID_WORKER,
                                     scope_org_unit=tree["T01-C01-G01"], acting_user=None)
        operator = create_staff_member(username="bench_operator", password="x" * 12,
                                       role=StaffRole.COMMAND_OPERATOR, acting_user=None)
    sessions = {}
    for name, profile in (("worker", worker), ("operator", operator)):
        client = Client(HTTP_HOST=HOST)
        client.force_login(profile.user)
        passed_second_factor(client, profile.user)
        sessions[name] = client.cookies["sessionid"].value
    return {"tenant": tenant, "sessions": sessions}


def passed_second_factor(client, user) -> None:
    """The command centre signs in with a second factor (等保 level 3): give the operator an
    authenticator and mark the session as having passed it, as signing in with a code does."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def photo_jpeg(width: int = 1600, height: int = 1200) -> bytes:
    """A phone-sized photo: 1600×1200 with texture (flat colour would compress to nothing)."""
    from PIL import Image, ImageDraw

    image = Image.effect_noise((width, height), 40).convert("RGB")
    draw = ImageDraw.Draw(image)
    for i in range(0, width, 40):
        draw.line([(i, 0), (width - i, height)], fill=(i % 255, 120, 200), width=3)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


# --- the client -----------------------------------------------------------------


class Api:
    def __init__(self, port: int, session: str):
        self.port = port
        self.csrf = secrets.token_hex(16)  # a 32-character secret: cookie and header agree
        self.cookie = f"sessionid={session}; csrftoken={self.csrf}"

    def post(self, path: str, body: bytes, content_type: str, headers: dict | None = None) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("POST", path, body=body, headers={
                "Host": HOST, "Cookie": self.cookie, "X-CSRFToken": self.csrf, "Content-Type": content_type,
                "Accept": "application/json", "Accept-Language": "zh-hans", **(headers or {})})
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        return response.status, data, time.perf_counter() - started

    def get(self, path: str) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", path, headers={"Host": HOST, "Cookie": self.cookie, "Accept": "application/json"})
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        return response.status, data, time.perf_counter() - started

    def post_json(self, path: str, payload: dict):
        return self.post(path, json.dumps(payload).encode(), "application/json")

    def post_multipart(self, path: str, fields: dict, files: list[tuple[str, str, bytes]], headers: dict | None = None):
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, filename, data in files:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                         f"Content-Type: image/jpeg\r\n\r\n".encode() + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.post(path, b"".join(parts), f"multipart/form-data; boundary={boundary}", headers)


# --- where the CPU went --------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            pass
    return found


class CpuWatch:
    """CPU seconds per part of the system over one step: the server's workers, PostgreSQL's
    backends serving this database, the S3 server and this client process."""

    def __init__(self, server: subprocess.Popen, s3: subprocess.Popen):
        self.server, self.s3 = server, s3

    def _parts(self) -> dict[str, list[int]]:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()")
            backends = [row[0] for row in cursor.fetchall()]
        return {"gunicorn": [self.server.pid, *_children(self.server.pid)], "postgres": backends,
                "s3": [self.s3.pid], "client": [os.getpid()]}

    def sample(self) -> dict[str, dict[int, float]]:
        return {part: {pid: _cpu_seconds(pid) for pid in pids} for part, pids in self._parts().items()}

    @staticmethod
    def line(label: str, before: dict, after: dict, elapsed: float, count: int) -> str:
        used = {part: sum(after[part].get(pid, 0) - before[part].get(pid, 0) for pid in after[part])
                for part in after}
        shares = " ".join(f"{part}={seconds / count * 1000:.1f}ms" for part, seconds in used.items())
        return f"cpu      {label:<8} per request {shares}  (machine {sum(used.values()) / elapsed * 100:.0f}% busy)"


WATCH: CpuWatch | None = None
S3_SERVER: subprocess.Popen | None = None
PROFILE_DIR = os.environ.get("BENCH_PROFILE", "")


@contextmanager
def py_spy(label: str, server: subprocess.Popen | None):
    if not PROFILE_DIR or server is None:
        yield
        return
    Path(PROFILE_DIR).mkdir(parents=True, exist_ok=True)
    out = Path(PROFILE_DIR) / f"{label}.txt"
    recorder = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(server.pid),
                                 "--subprocesses", "--rate", "250", "--format", "raw", "--nonblocking",
                                 "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # attached before the first request
    try:
        yield
    finally:
        recorder.send_signal(2)  # SIGINT: py-spy writes what it has and stops
        recorder.wait(timeout=60)


def run_concurrently(label: str, jobs: list, work, concurrency: int) -> list:
    """Run ``work(job)`` for every job on ``concurrency`` threads; print the figures."""
    with py_spy(label, WATCH.server if WATCH else None):
        before = WATCH.sample() if WATCH else None
        started = time.perf_counter()
        outcome = _run_threads(label, jobs, work, concurrency)
        if WATCH:
            print(WATCH.line(label, before, WATCH.sample(), time.perf_counter() - started, len(jobs)), flush=True)
    return outcome


def _run_threads(label: str, jobs: list, work, concurrency: int) -> list:
    results: list = [None] * len(jobs)
    latencies: list[float] = []
    failures: list = []
    lock = threading.Lock()
    next_index = iter(range(len(jobs)))

    def worker():
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                return
            status, body, seconds = work(jobs[index])
            with lock:
                latencies.append(seconds)
                if status >= 300:
                    failures.append((status, body[:300]))
                results[index] = (status, body)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
    print(f"{label:<9}n={len(jobs):,} {len(jobs) / elapsed:,.0f}/s  p50={p50:.0f}ms p95={p95:.0f}ms "
          f"max={latencies[-1] * 1000:.0f}ms  errors={len(failures)}", flush=True)
    if failures:
        print(f"          first error: {failures[0]}", flush=True)
    return results, len(jobs) / elapsed, p95


def report_payload(i: int) -> dict:
    return {"category": CATEGORY, "title": f"楼道堆物影响通行 #{i}", "description": "三楼楼道堆放杂物，影响消防通行",
            "source": "grid_worker", "latitude": 30.245 + (i % 50) * 0.0001, "longitude": 120.175,
            "address": "幸福社区3幢"}


def run() -> None:
    world = build_world()
    port = free_port()
    workers = int(os.environ.get("BENCH_WORKERS", "0"))  # 0: as deployed (civicgrid/config/gunicorn.py)
    concurrency = int(os.environ.get("BENCH_CONCURRENCY", "16"))
    reports = int(os.environ.get("BENCH_REPORTS", "2000"))
    photos = int(os.environ.get("BENCH_PHOTOS", "300"))
    if Path("civicgrid/config/gunicorn.py").exists():  # the deployed configuration (absent in old trees)
        command = [sys.executable, "-m", "gunicorn", "civicgrid.config.wsgi", "--config",
                   "python:civicgrid.config.gunicorn", "-b", f"127.0.0.1:{port}", "--log-level", "warning"]
        if workers:
            command += ["-w", str(workers)]
        shape = f"config=civicgrid/config/gunicorn.py workers={workers or 'cpus+1'} threads=4"
    else:
        command = [sys.executable, "-m", "gunicorn", "civicgrid.config.wsgi", "-w", str(workers or 4), "-b",
                   f"127.0.0.1:{port}", "--log-level", "warning"]
        shape = f"sync workers={workers or 4}"
    print(f"server  gunicorn {shape} settings={os.environ['DJANGO_SETTINGS_MODULE']} "
          f"concurrency={concurrency}", flush=True)
    global WATCH
    with child(command, port, env=dict(os.environ)) as server:
        WATCH = CpuWatch(server, S3_SERVER)
        worker_api, operator_api = Api(port, world["sessions"]["worker"]), Api(port, world["sessions"]["operator"])
        run_concurrently("warmup", list(range(40)), lambda i: worker_api.post_json("/api/v1/cases/",
                                                                                     report_payload(i)), concurrency)
        floor = min(reports, 1500)
        _, health_rate, _ = run_concurrently("health", list(range(floor)), lambda i: Api(port, "").get(
            "/api/v1/health/"), concurrency)
        _, me_rate, _ = run_concurrently("me", list(range(floor)), lambda i: worker_api.get("/api/v1/me/"),
                                         concurrency)
        results, rate, p95 = run_concurrently(
            "reports", list(range(reports)),
            lambda i: worker_api.post_json("/api/v1/cases/", report_payload(i)), concurrency)
        image = photo_jpeg()
        _, _, photo_alone_p95 = run_concurrently(
            "photo1", list(range(int(os.environ.get("BENCH_PHOTOS_ALONE", "50")))),
            lambda i: worker_api.post_multipart("/api/v1/cases/", report_payload(i),
                                                [("photos", f"photo{i}.jpg", image)]), 1)
        _, _, photo_p95 = run_concurrently("photo", list(range(photos)), lambda i: worker_api.post_multipart(
            "/api/v1/cases/", report_payload(i), [("photos", f"photo{i}.jpg", image)]), concurrency)
        ids = [json.loads(body)["id"] for status, body in results if status == 201]
        run_concurrently("accept", ids, lambda pk: operator_api.post_json(f"/api/v1/cases/{pk}/accept/", {}),
                         concurrency)
        run_concurrently("dispatch", ids, lambda pk: operator_api.post_json(f"/api/v1/cases/{pk}/dispatch/", {}),
                         concurrency)
    def verdict(met: bool) -> str:
        return "met" if met else "MISSED"

    print(f"goal    report / signed-in GET = {rate / me_rate:.2f}x  goal ≥ {TARGET_SHARE_OF_ME}: "
          f"{verdict(rate >= TARGET_SHARE_OF_ME * me_rate)}", flush=True)
    print(f"goal    report p95 = {p95:.0f} ms at concurrency {concurrency}  goal ≤ {TARGET_P95_MS} ms: "
          f"{verdict(p95 <= TARGET_P95_MS)}", flush=True)
    print(f"goal    report with a {len(image) / 1024:.0f} KB photo p95 = {photo_alone_p95:.0f} ms alone, "
          f"{photo_p95:.0f} ms at concurrency {concurrency}  goal ≤ {TARGET_PHOTO_P95_MS} ms: "
          f"{verdict(photo_alone_p95 <= TARGET_PHOTO_P95_MS)} alone, "
          f"{verdict(photo_p95 <= TARGET_PHOTO_P95_MS)} at {concurrency}", flush=True)

    print(f"ratio   report / anonymous health GET = {rate / health_rate:.2f}x, "
          f"report / signed-in GET = {rate / me_rate:.2f}x (same server, same run)", flush=True)
    print(machine_line(f"gunicorn={version_of('gunicorn')}"), flush=True)


if __name__ == "__main__":
    sys.exit(main())

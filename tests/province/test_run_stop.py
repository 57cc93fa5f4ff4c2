"""`civicgrid run` stopped at any moment stops what it started.

A real run on embedded PostgreSQL and Redis (no DATABASE_URL / REDIS_URL), in a
process group of its own that gets SIGTERM (or SIGINT) at one moment of its
life after another: while initdb runs, while Python starts, while the
postmaster starts, while migrating, while seeding the demo and once it serves.
After each, no server whose data lives in the run's data directory, and no
process of its group, may be left; and a second command run beside the served
platform and stopped the same way stops nothing it did not start. One data
directory serves every moment, in the order a first run goes through them
(later runs skip initdb, then the migrations).
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.slow

CIVICGRID = Path(sys.executable).with_name("civicgrid")


class Run:
    """`civicgrid run` (or another command) in a new session, so its process group is its own."""

    def __init__(self, data: Path, *, worker: bool, args: list[str] | None = None):
        self.data, self.port = data, free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_QUEUE")}
        env.update(DJANGO_SETTINGS_MODULE="civicgrid.config.settings.dev", CIVICGRID_DATA_DIR=str(data),
                   PYTHONUNBUFFERED="1")
        args = args or ["run", "--port", str(self.port)] + ([] if worker else ["--no-worker"])
        command = [str(CIVICGRID), *args]
        self.started = time.monotonic()
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.output, self.seen = bytearray(), {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while chunk := os.read(self.process.stdout.fileno(), 65536):
            self.output += chunk

    def text(self) -> str:
        return self.output.decode(errors="replace")

    def after(self, marker: str, delay: float) -> bool:
        """True once ``marker`` has been in the output for ``delay`` seconds."""
        if marker not in self.text():
            return False
        return time.monotonic() - self.seen.setdefault(marker, time.monotonic()) >= delay

    def answers(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def wait_for(self, moment, timeout: float):
        deadline = time.monotonic() + timeout
        while not moment(self):
            if self.process.poll() is not None:
                pytest.fail(f"run exited with {self.process.returncode} before the moment:\n{self.text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the moment never came:\n{self.text()}")
            time.sleep(0.02)

    def stop(self, signum: int):
        os.killpg(self.process.pid, signum)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"run still running 60 s after {signal.Signals(signum).name}:\n{self.text()}")

    def group(self) -> list[psutil.Process]:
        """What is left of the run's process group (daphne, celery, initdb, pg_ctl …)."""
        left = []
        for proc in psutil.process_iter():
            try:
                if os.getpgid(proc.pid) == self.process.pid:
                    left.append(proc)
            except (ProcessLookupError, psutil.Error):
                pass
        return left


def servers(data: Path) -> list[psutil.Process]:
    """PostgreSQL and Redis servers whose data is under ``data``."""
    found = {}
    for proc in psutil.process_iter(["name", "cmdline", "cwd"]):
        cmdline, cwd = " ".join(proc.info["cmdline"] or []), proc.info["cwd"] or ""
        if proc.info["name"] in ("postgres", "redis-server") and (str(data) in cmdline or cwd.startswith(str(data))):
            found[proc.pid] = proc
    try:  # the postmaster as its own pid file names it
        pid = int((data / "pgdata" / "postmaster.pid").read_text().split()[0])
        proc = psutil.Process(pid)
        if proc.name() == "postgres":
            found[pid] = proc
    except (OSError, ValueError, IndexError, psutil.Error):
        pass
    return list(found.values())


def left_behind(run: Run, grace: float = 10) -> list[psutil.Process]:
    """Servers and group members still alive; shutdown is asynchronous, so ask again for a while."""
    deadline = time.monotonic() + grace
    while True:
        left = [p for p in servers(run.data) + run.group() if _alive(p)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def describe(proc: psutil.Process) -> str:
    try:
        return f"{proc.pid} {' '.join(proc.cmdline())[:100]}"
    except psutil.Error:
        return f"{proc.pid} (gone)"


def kill(processes: list[psutil.Process]):
    """SIGTERM (a smart shutdown for a postmaster with no clients left), then SIGKILL."""
    for proc in processes:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    for proc in psutil.wait_procs(processes, timeout=10)[1]:
        proc.kill()


def a_command_beside(run: Run) -> list[str]:
    """What goes wrong when a second command on the same data is stopped the same way:
    it must end through its exit hooks, and stop nothing it did not start."""
    up = {p.pid for p in servers(run.data)}
    other = Run(run.data, worker=False, args=["shell", "-c", "print('ready'); import time; time.sleep(60)"])
    try:
        other.wait_for(lambda other: "ready" in other.text(), 60)
        other.stop(signal.SIGTERM)
    finally:
        if other.process.poll() is None:
            os.killpg(other.process.pid, signal.SIGKILL)
    time.sleep(1)
    problems = [] if other.process.returncode == 128 + signal.SIGTERM else [f"exit {other.process.returncode}"]
    if not up or not {p.pid for p in servers(run.data) if _alive(p)} >= up or not run.answers():
        problems.append("the run's servers went down")
    return problems


def running(name: str):
    """The moment a process called ``name`` runs in the run's group (initdb, pg_ctl start)."""
    return lambda run: any(_name(p) == name for p in run.group())


def _name(proc: psutil.Process) -> str:
    try:
        return proc.name()
    except psutil.Error:
        return ""


def migrating(run):
    return run.after("database:", 1.0)  # the command's first line; migrate_all follows it


def seeding(run):
    return run.after("seeding the demo province", 1.0)


# (name, moment, timeout for it to come, with the Celery worker and beat, signal); Ctrl-C
# sends SIGINT to the foreground group.
TERM, INT = signal.SIGTERM, signal.SIGINT
MOMENTS = [
    ("initdb", running("initdb"), 60, False, TERM),  # first, while the data directory is fresh
    ("python starting", lambda run: time.monotonic() - run.started >= 0.3, 5, False, TERM),
    ("postmaster starting", running("pg_ctl"), 60, False, TERM),  # pg_ctl -w start
    ("postmaster starting, Ctrl-C", running("pg_ctl"), 60, False, INT),
    ("migrating", migrating, 120, False, TERM),
    ("migrating, Ctrl-C", migrating, 120, False, INT),
    ("seeding", seeding, 300, False, TERM),
    ("serving", Run.answers, 300, True, TERM),
]


def test_sigterm_to_the_group_at_any_moment_stops_the_embedded_servers(tmp_path):
    data = tmp_path / "data"
    leaks, run = {}, None
    try:
        for name, moment, timeout, worker, signum in MOMENTS:
            run = Run(data, worker=worker)
            run.wait_for(moment, timeout)
            if name == "serving" and (problems := a_command_beside(run)):
                leaks["a command beside"] = problems
            run.stop(signum)
            left = left_behind(run)
            print(f"{name}: exit {run.process.returncode} after {time.monotonic() - run.started:.1f} s,"
                  f" left {[describe(p) for p in left]}")
            if left:
                leaks[name] = [describe(p) for p in left] + [run.text()[-3000:]]
                kill(left)  # so the next moment starts from no server, as it would on a clean stop
    finally:
        if run is not None and run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)
            run.process.wait(10)
        kill(servers(data) + (run.group() if run else []))
    assert not leaks, leaks


def test_a_data_directory_initdb_did_not_finish_is_started_afresh(tmp_path):
    """A stop during initdb kills it half-way (it runs as another user, without our signal
    mask) and leaves files behind; the next start clears them instead of refusing."""
    from civicgrid.config.embedded import _discard_unfinished_cluster

    unfinished = tmp_path / "unfinished"
    (unfinished / "base").mkdir(parents=True)
    (unfinished / "PG_VERSION").write_text("18\n")
    (unfinished / "postgresql.conf").write_text("")
    _discard_unfinished_cluster(unfinished)
    assert not unfinished.exists()

    finished = tmp_path / "finished"
    (finished / "global").mkdir(parents=True)
    (finished / "global" / "pg_control").write_bytes(b"x")
    for oid in ("1", "4", "5", "16384"):
        (finished / "base" / oid).mkdir(parents=True)
    _discard_unfinished_cluster(finished)
    assert (finished / "base" / "16384").is_dir()  # a cluster with data is never touched

    running = tmp_path / "running"
    running.mkdir()
    (running / "postmaster.pid").write_text("1\n")
    _discard_unfinished_cluster(running)
    assert (running / "postmaster.pid").exists()

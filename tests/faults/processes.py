"""Real processes a fault test can stop, kill and start again on the same port.

Each fault test starts its own: a redis-server, a TCP relay in front of the
machine's PostgreSQL, a gunicorn web server, Celery workers, moto's S3 server.
None of them is shared with another test or another person on the machine, so
killing one disturbs nobody. Every process runs in a session of its own and is
stopped by its own pid, never by name.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.conftest import free_port, wait_for_port


class Process:
    """A child process with its output in a log file; ``start`` waits until it listens on
    ``port`` (or until ``ready`` returns), ``stop`` ends it politely, ``kill`` with SIGKILL."""

    def __init__(self, name: str, command: list[str], *, env: dict, log_dir: Path, port: int | None = None,
                 ready: Callable[[Process], None] | None = None, preexec: Callable[[], None] | None = None):
        self.name, self.command, self.env, self.port, self.ready = name, command, env, port, ready
        self.log_path = log_dir / f"{name}.log"
        self.preexec = preexec
        self.popen: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Process:
        log = open(self.log_path, "ab")  # noqa: SIM115 -- the child owns it until it exits
        self.popen = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True, preexec_fn=self.preexec)
        log.close()
        try:
            if self.port is not None:
                wait_for_port(self.port, self.popen, timeout=timeout)
            if self.ready is not None:
                self.ready(self)
        except Exception:
            self.kill()
            raise RuntimeError(f"{self.name} did not start:\n{self.log()[-3000:]}") from None
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self, timeout: float = 20) -> None:
        if not self.running:
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a pulled plug would: no cleanup at all."""
        if self.running:
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=20)

    def pause(self) -> None:
        """SIGSTOP: the process hangs with its sockets open (frozen, swapping, a network that
        drops packets): connections are accepted by the kernel and never answered."""
        os.kill(self.popen.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.popen.pid, signal.SIGCONT)

    def restart(self) -> Process:
        self.stop()
        return self.start()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if not self.running:
                break
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} never logged {text!r}:\n{self.log()[-3000:]}")


def redis_server(port: int, *, log_dir: Path, append_only: bool = False) -> Process:
    """A redis-server of the test's own, by default without persistence: stopping it loses
    what it held (queued tasks, cache), which is the harder case for the platform. With
    ``append_only`` it keeps its data across a restart, as production runs it
    (deploy/compose.yaml): a task in hand during the restart is still unacknowledged after."""
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "yes" if append_only else "no", "--dir", str(log_dir)]
    return Process(f"redis-{port}", command, env=dict(os.environ), log_dir=log_dir, port=port)


def web_server(*, env: dict, log_dir: Path, name: str = "web", preexec=None) -> Process:
    """gunicorn serving the WSGI app, as production does (deploy/compose.yaml), with threads
    so one slow request does not hold the others."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "civicgrid.config.wsgi", "--bind", f"127.0.0.1:{port}",
               "--workers", "1", "--threads", "4", "--timeout", "60", "--graceful-timeout", "5"]
    return Process(name, command, env=env, log_dir=log_dir, port=port, preexec=preexec)


def asgi_server(*, env: dict, log_dir: Path, name: str = "asgi") -> Process:
    """daphne serving the ASGI app (the console's sockets), as production does."""
    port = free_port()
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "civicgrid.config.asgi:application"]
    return Process(name, command, env=env, log_dir=log_dir, port=port)


def celery_worker(*, env: dict, log_dir: Path, name: str, prefork: int = 0) -> Process:
    """A Celery worker on the run's own queue (``CELERY_QUEUE``), one task at a time in its
    own process (``--pool=solo``), or, with ``prefork``, as production runs it: a pool of that
    many child processes, whose results the main process acknowledges when they come back."""
    pool = ["--pool=prefork", f"--concurrency={prefork}"] if prefork else ["--pool=solo"]
    command = [sys.executable, "-m", "celery", "-A", "civicgrid.config.celery", "worker", *pool,
               "--loglevel=INFO", "--without-gossip", "--without-mingle", "--hostname", f"{name}-{os.getpid()}@%h",
               "-Q", env["CELERY_QUEUE"]]

    def ready(process: Process) -> None:
        process.wait_for_log("ready.", timeout=60)

    return Process(name, command, env=env, log_dir=log_dir, ready=ready)


def moto_s3_server(*, log_dir: Path, port: int | None = None) -> Process:
    port = port or free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    return Process(f"moto-{port}", command, env=dict(os.environ), log_dir=log_dir, port=port)


class TcpRelay:
    """A TCP relay between the app's processes and a server (the machine's PostgreSQL).

    ``cut`` drops every connection through it and refuses new ones; ``restore`` listens
    again on the same port. To the app that is exactly a server restart (its sockets
    closed under it, connections refused meanwhile, the same address afterwards), while
    the machine's server, which others use, is never touched.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> TcpRelay:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        self._stopping.clear()
        self._thread = threading.Thread(target=self._serve, name=f"relay-{self.port}", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        selector = selectors.DefaultSelector()
        selector.register(self._listener, selectors.EVENT_READ, "accept")
        peers: dict[socket.socket, socket.socket] = {}
        try:
            while not self._stopping.is_set():
                for key, _mask in selector.select(timeout=0.05):
                    sock = key.fileobj
                    if key.data == "accept":
                        try:
                            client, _ = sock.accept()
                            upstream = socket.create_connection(self.target, timeout=5)
                        except OSError:
                            continue
                        upstream.settimeout(None)
                        with self._lock:
                            self._pairs.append((client, upstream))
                        peers[client], peers[upstream] = upstream, client
                        selector.register(client, selectors.EVENT_READ, "pipe")
                        selector.register(upstream, selectors.EVENT_READ, "pipe")
                        continue
                    other = peers.get(sock)
                    try:
                        data = sock.recv(65536)
                        if data:
                            other.sendall(data)
                            continue
                    except OSError:
                        pass
                    for end in (sock, other):  # one side closed: close the pair
                        if end is not None:
                            self._close(end, selector, peers)
        finally:
            for end in list(peers):
                self._close(end, selector, peers)
            selector.close()

    def _close(self, end: socket.socket, selector, peers: dict) -> None:
        peers.pop(end, None)
        try:
            selector.unregister(end)
        except (KeyError, ValueError):
            pass
        try:
            end.close()
        except OSError:
            pass

    def cut(self) -> None:
        """Every connection dropped, new ones refused."""
        self._stopping.set()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for end in pair:
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        if self._thread is not None:
            self._thread.join(timeout=5)

    def restore(self) -> None:
        self.start()

    def stop(self) -> None:
        self.cut()

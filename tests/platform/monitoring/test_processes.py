"""The figures and lines of real processes, as production runs them:

- daphne (ws) counts the console sockets it holds: a real client opens two, the scrape says 2,
  and back to 0 as they close;
- gunicorn with two workers (``config/gunicorn.py``) answers one total for every worker, even
  after each of them was killed, and a dead worker's live gauges are gone while its counts stay;
  its own lines are JSON with ``CIVICGRID_LOG_FORMAT=json``;
- a Celery worker's lines are JSON too.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import uuid
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import child_env, free_port
from tests.faults.processes import Process
from tests.platform.notifications.sockets import Sockets
from tests.platform.notifications.test_dead_letters import eventually
from tests.platform.test_websockets import session_cookie  # noqa: F401 -- a fixture

pytestmark = pytest.mark.slow

TOKEN = uuid.uuid4().hex + uuid.uuid4().hex


def scrape(port: int) -> dict[tuple, float]:
    answer = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=30,
                          headers={"Host": "localhost", "Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text[:500]
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text) for s in family.samples}


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def test_daphne_counts_the_sockets_it_holds(committed, session_cookie, tmp_path):  # noqa: F811
    port = free_port()
    daphne = Process("ws", [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                            "civicgrid.config.asgi:application"],
                     env=child_env(CIVICGRID_METRICS_TOKEN=TOKEN), log_dir=tmp_path, port=port).start()
    sockets = Sockets(port)
    try:
        def open_now() -> float:
            return scrape(port).get(("civicgrid_websockets_open", ()))

        assert open_now() == 0
        sockets.connect("operator", "shangcheng.localhost", session_cookie("shangcheng_operator"))
        sockets.connect("other", "yuhang.localhost", session_cookie("yuhang_operator"))
        assert open_now() == 2
        sockets.close("operator")
        eventually(lambda: open_now() == 1, "one socket open")
        sockets.close("other")
        eventually(lambda: open_now() == 0, "no socket open")
    finally:
        sockets.close_all()
        daphne.stop()


def test_gunicorn_answers_for_every_worker_even_dead_ones(committed, tmp_path):
    port = free_port()
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_4242.db").write_bytes(b"left by an earlier run")  # must not count: emptied at start
    env = child_env(CIVICGRID_METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(folder), CIVICGRID_LOG_FORMAT="json",
                    WEB_BIND=f"127.0.0.1:{port}", WEB_WORKERS="2", WEB_THREADS="1")
    web = Process("web", [sys.executable, "-m", "gunicorn", "civicgrid.config.wsgi:application",
                          "--config", "python:civicgrid.config.gunicorn"], env=env, log_dir=tmp_path, port=port)
    web.start()
    try:
        assert not (folder / "counter_4242.db").exists()
        for _ in range(12):
            answer = requests.get(f"http://127.0.0.1:{port}/api/v1/health/", timeout=30,
                                  headers={"Host": "localhost", "Connection": "close"})
            assert answer.status_code == 200

        def health_count() -> float:
            return scrape(port).get(("civicgrid_http_requests_total",
                                     (("method", "GET"), ("route", "api-health"), ("status", "2xx"))), 0)

        assert health_count() == 12
        workers = children_of(web.popen.pid)
        assert len(workers) == 2
        # A worker's live gauge file is made as it loads the application (the second may still be).
        eventually(lambda: all((folder / f"gauge_livesum_{pid}.db").exists() for pid in workers),
                   "both workers loaded", timeout=60)
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        eventually(lambda: len(children_of(web.popen.pid) - workers) == 2, "two new workers")
        eventually(lambda: not any((folder / f"gauge_livesum_{pid}.db").exists() for pid in workers),
                   "the dead workers' live gauges removed (child_exit)")
        assert health_count() == 12  # their counts stay, merged by whichever worker answers
        assert scrape(port)[("civicgrid_http_requests_in_progress", ())] == 1  # the scrape itself, no ghosts
    finally:
        web.stop()
    lines = [json.loads(line) for line in web.log().splitlines() if line.startswith("{")]
    booted = [line for line in lines if line["logger"] == "gunicorn.error" and "Booting worker" in line["message"]]
    assert len(booted) >= 4 and {"time", "level", "message"} <= set(booted[0])


def test_a_celery_worker_writes_json_lines(committed, tmp_path):
    from civicgrid.config.celery import app

    worker = Process("worker", [sys.executable, "-m", "celery", "-A", "civicgrid.config.celery", "worker",
                                "--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle",
                                "--hostname", f"json-{os.getpid()}@%h", "-Q", f"json-{app.conf.task_default_queue}"],
                     env=child_env(CIVICGRID_LOG_FORMAT="json"), log_dir=tmp_path,
                     ready=lambda process: process.wait_for_log("ready.", timeout=60))
    worker.start()
    worker.stop()
    lines = [json.loads(line) for line in worker.log().splitlines() if line.startswith("{")]
    ready = [line for line in lines if line["message"].endswith("ready.")]
    assert ready and ready[0]["logger"] == "celery.apps.worker" and ready[0]["level"] == "INFO"

"""gunicorn's settings for the web service (``gunicorn -c python:civicgrid.config.gunicorn``).

Threads, not more processes: a request spends much of its time waiting for PostgreSQL,
Redis or object storage, and a thread of the same process takes the core meanwhile, at
a fraction of a process's memory. One process per core (plus one) keeps every core busy
in spite of the GIL. WEB_WORKERS and WEB_THREADS override the sizing.
"""

import multiprocessing
import os
import shutil
import tempfile

from gunicorn import glogging

bind = os.environ.get("WEB_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_WORKERS") or multiprocessing.cpu_count() + 1)
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS") or 4)
timeout = int(os.environ.get("WEB_TIMEOUT") or 60)
# A worker is replaced after this many requests (with jitter, so not all at once): any slow
# growth of a process's memory is bounded.
max_requests = int(os.environ.get("WEB_MAX_REQUESTS") or 20_000)
max_requests_jitter = max_requests // 10
keepalive = 5

# --- metrics from every worker (civicgrid.platform.monitoring) ----------------------------------
#
# Each worker is a process of its own, and a scrape reaches one of them: prometheus_client's
# multiprocess mode has each write its figures to files in PROMETHEUS_MULTIPROC_DIR, and the
# worker answering /metrics merges them all. The variable must be set before a worker imports
# prometheus_client, so it is set here, in the master, before any worker is forked (nothing
# here imports prometheus_client earlier). Unset, each start gets a fresh folder under the
# temporary directory, removed on exit. Set (to a tmpfs, say), the folder is emptied at start:
# files from an earlier run would add its counts to this one's. Never set it for daphne (ws):
# it is one process, and its live gauges would outlive it under the same pid after a restart.
# A worker that dies (max_requests, a timeout, a kill) leaves its counter files, so totals never
# go back; its live gauges (requests in progress) are removed in child_exit.

_metrics_dir_made_here = None


def on_starting(server):
    global _metrics_dir_made_here
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))
    else:
        folder = _metrics_dir_made_here = tempfile.mkdtemp(prefix="civicgrid-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _metrics_dir_made_here:
        shutil.rmtree(_metrics_dir_made_here, ignore_errors=True)


# --- gunicorn's own lines (worker started, timed out) as JSON too ---------------------------------
# The application's lines follow Django's LOGGING; gunicorn's error log has a handler of its own.
# Its access log stays off: each line would carry the query string.


class JsonLinesLogger(glogging.Logger):
    def setup(self, cfg):
        super().setup(cfg)
        from civicgrid.platform.monitoring.logs import JsonFormatter

        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())


if os.environ.get("CIVICGRID_LOG_FORMAT") == "json":
    logger_class = JsonLinesLogger

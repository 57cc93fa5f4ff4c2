"""gunicorn's settings for the web service (``gunicorn -c python:civicgrid.config.gunicorn``).

Threads, not more processes: a request spends much of its time waiting for PostgreSQL,
Redis or object storage, and a thread of the same process takes the core meanwhile, at
a fraction of a process's memory. One process per core (plus one) keeps every core busy
in spite of the GIL. WEB_WORKERS and WEB_THREADS override the sizing.
"""

import multiprocessing
import os

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

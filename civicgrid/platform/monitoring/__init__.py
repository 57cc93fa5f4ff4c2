"""What the operator watches: Prometheus metrics at ``/metrics`` and the log lines' form.

- ``metrics``: the HTTP figures every process keeps (counts, latency, requests in flight).
- ``middleware``: ``ObserveRequestsMiddleware`` counts and times each request and gives its
  log lines a request id, tenant and route; ``MetricsEndpointMiddleware`` answers ``/metrics``.
- ``exposition``: what one scrape returns: the processes' figures (gunicorn's workers merged
  through ``PROMETHEUS_MULTIPROC_DIR``, see ``config/gunicorn.py``) and the figures computed
  when asked (``CIVICGRID_METRICS_COLLECTORS``: the broker's queues here, each tenant's outbox
  in ``notifications.metrics``).
- ``logs``: the JSON formatter (``CIVICGRID_LOG_FORMAT=json``) and the request context of a
  line. Imports nothing of Django's models: the logging configuration loads it before the apps.

Nothing here names a person: labels and log fields are route names, tenant schemas, status
classes and numbers, never a path, a query string or a user.
"""

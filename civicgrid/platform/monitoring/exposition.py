"""What one scrape of ``/metrics`` returns.

1. This process's figures, or, under gunicorn, every worker's merged from the files in
   ``PROMETHEUS_MULTIPROC_DIR`` (``config/gunicorn.py`` makes the folder and removes a dead
   worker's live gauges). Without that variable (daphne, ``civicgrid run``) the process's own
   registry, with its ``process_*`` figures.
2. The figures read when asked, from the collectors named in ``CIVICGRID_METRICS_COLLECTORS``:
   each has a ``part`` name and ``read()`` returning its metric families and how many of its
   reads failed. A part that fails is logged and counted in ``civicgrid_scrape_failures``;
   the rest of the scrape still answers. They read the database and the broker, so every
   web and ws process gives the same figures: take ``max`` of them across instances.
"""

from __future__ import annotations

import logging
import os
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string
from django_tenants.utils import schema_context
from prometheus_client import REGISTRY, CollectorRegistry, PlatformCollector, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

import civicgrid

logger = logging.getLogger(__name__)


def render() -> bytes:
    with schema_context("public"):
        return generate_latest(process_registry()) + generate_latest(read_when_asked())


def process_registry():
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    # The serving worker's own process figures would stand for none of the others: left out.
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    PlatformCollector(registry=registry)
    return registry


@cache
def collectors() -> list:
    return [import_string(path)() for path in settings.CIVICGRID_METRICS_COLLECTORS]


class ReadWhenAsked:
    def collect(self):
        failures = GaugeMetricFamily("civicgrid_scrape_failures", "Reads that failed in this scrape, by part "
                                     "(a part's figures are missing or partial while this is above 0).",
                                     labels=["part"])
        for collector in collectors():
            try:
                families, failed = collector.read()
            except Exception:
                logger.warning("metrics: could not read %s", collector.part, exc_info=True)
                families, failed = [], 1
            yield from families
            failures.add_metric([collector.part], failed)
        yield failures
        info = GaugeMetricFamily("civicgrid_build_info", "The installed CivicGrid's version.", labels=["version"])
        info.add_metric([civicgrid.__version__], 1)
        yield info


def read_when_asked() -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(ReadWhenAsked())
    return registry


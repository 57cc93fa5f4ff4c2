"""Cases for search tests, reported and moved through the real actions, then
relayed through the outbox and indexed, as a worker would."""

from __future__ import annotations

from django.db import connection

from civicgrid.platform.cases import actions
from civicgrid.platform.cases.models import Source
from civicgrid.platform.notifications.outbox import relay
from civicgrid.search.indexing import drain
from tests.platform.cases.test_workflow import IN_G01, staff

# A point in shangcheng's T02 (another township than the grid worker's T01).
IN_T02 = {"latitude": 30.245, "longitude": 120.195}  # T02-C01-G01


def report(title: str, description: str = "", *, by: str = "shangcheng_operator", category: str = "DSP-NEIGHBOUR",
           source: str = Source.HOTLINE_12345, where: dict | None = None, **extra):
    return actions.report_case(staff=staff(by), category=category, title=title, description=description,
                               source=source, **(where or IN_G01), **extra)


def index_now() -> int:
    """What a worker does after commit: relay the outbox (which queues the cases), then index them."""
    relay()
    return drain()


def schema() -> str:
    return connection.schema_name

"""What the plugin's tests share: a stand-in for Acme's gateway on loopback, and
the staff a grid worker's report reaches (set up through CivicGrid's actions)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import connection

from civicgrid.platform.accounts.actions import create_staff_member
from civicgrid.platform.accounts.staff.models import StaffProfile, StaffRole
from civicgrid.platform.cases.actions import report_case
from civicgrid.platform.cases.models import Case
from civicgrid.platform.org.models import OrgUnit

COMMUNITY, GRID = "T01-C01", "T01-C01-G01"  # in every tenant's demo tree
API_KEY = "acme-unit-test-key"  # what the ``gateway`` fixture points the plugin at


@dataclass
class Received:
    path: str
    headers: dict
    body: dict


@dataclass
class FakeGateway:
    """Acme's SMS gateway on 127.0.0.1: records every request and answers ``status``
    (after ``delay`` seconds) with a message id. Use it as a context manager."""

    port: int = 0
    status: int = 200
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)

    def __enter__(self) -> FakeGateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                gateway.requests.append(Received(self.path, dict(self.headers.items()), json.loads(raw or b"{}")))
                time.sleep(gateway.delay)
                answer = json.dumps({"id": f"acme-{len(gateway.requests)}"}).encode()
                self.send_response(gateway.status)
                if 300 <= gateway.status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                try:
                    self.end_headers()
                    self.wfile.write(answer)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    pass

            def log_message(self, *args):  # keep the test output quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms"


def grid_worker_heard_by_a_community_operator() -> StaffProfile:
    """In the current tenant: a grid worker in GRID, and the community operator
    of COMMUNITY, who is notified of the grid worker's reports."""
    schema = connection.schema_name
    units = {u.code: u for u in OrgUnit.objects.filter(code__in=[COMMUNITY, GRID])}
    for username, role, unit in [(f"{schema}_acme_community", StaffRole.COMMUNITY_OPERATOR, units[COMMUNITY]),
                                 (f"{schema}_acme_gridworker", StaffRole.GRID_WORKER, units[GRID])]:
        if not StaffProfile.objects.filter(user__username=username).exists():
            create_staff_member(username=username, password="x" * 12, role=role, scope_org_unit=unit,
                                acting_user=None)
    return StaffProfile.objects.select_related("user", "scope_org_unit").get(user__username=f"{schema}_acme_gridworker")


def report_by(worker: StaffProfile, title: str = "楼道堆放杂物堵塞消防通道") -> Case:
    return report_case(staff=worker, category="DSP-NEIGHBOUR", title=title, address="某小区3幢2单元")

"""deploy/nginx.conf run by a real nginx (Debian's `nginx-light`, skipped where none is installed,
as docker-compose is): its syntax holds, /metrics is a 404 from outside whatever is sent, and the
access log is one JSON object a line without query strings, its request id sent on upstream."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

from tests.conftest import free_port, wait_for_port
from tests.deploy.helpers import DEPLOY


class Upstream(BaseHTTPRequestHandler):
    """Stands for web: answers 200 and remembers the X-Request-ID each request came with."""

    seen: list[str | None] = []

    def do_GET(self):  # noqa: N802 -- http.server's name
        Upstream.seen.append(self.headers.get("X-Request-ID"))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def nginx(tmp_path):
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if binary is None:
        pytest.skip("nginx is not installed: `apt-get install nginx-light`")
    upstream = HTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    site = (DEPLOY / "nginx.conf").read_text()
    site = site.replace("server web:8000;", f"server 127.0.0.1:{upstream.server_port};")
    site = site.replace("server ws:8001;", f"server 127.0.0.1:{upstream.server_port};")
    site = site.replace("listen 80 default_server;", f"listen 127.0.0.1:{port} default_server;")
    site = site.replace("access_log /dev/stdout civicgrid_json;", f"access_log {tmp_path}/access.log civicgrid_json;")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  client_body_temp_path {tmp_path};\n  proxy_temp_path {tmp_path};\n"
        f"  include {tmp_path}/site.conf;\n}}\n")
    checked = subprocess.run([binary, "-t", "-c", f"{tmp_path}/nginx.conf", "-p", str(tmp_path)],
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([binary, "-c", f"{tmp_path}/nginx.conf", "-p", str(tmp_path), "-g", "daemon off;"])
    try:
        wait_for_port(port, process, timeout=10)
        yield f"http://127.0.0.1:{port}", tmp_path / "access.log"
    finally:
        process.terminate()
        process.wait(timeout=10)
        upstream.shutdown()


def test_metrics_is_a_404_at_the_proxy_and_the_access_log_is_json_without_queries(nginx):
    base, access_log = nginx
    Upstream.seen.clear()
    for headers in ({}, {"Authorization": "Bearer " + "x" * 64}):
        for path in ("/metrics", "/metrics?format=text", "//metrics"):
            answer = requests.get(base + path, headers={"Host": "grid.example.gov.cn", **headers}, timeout=10)
            assert answer.status_code == 404, path
    assert Upstream.seen == []  # never passed on
    page = requests.get(base + "/registry/persons/?phone=13912345678", headers={"Host": "grid.example.gov.cn"},
                        timeout=10)
    assert page.status_code == 200 and len(Upstream.seen) == 1 and len(Upstream.seen[0]) == 32
    time.sleep(0.2)
    lines = [json.loads(line) for line in access_log.read_text().splitlines()]
    assert len(lines) == 7
    assert lines[-1]["message"] == "GET /registry/persons/ 200" and lines[-1]["request_id"] == Upstream.seen[0]
    assert "13912345678" not in access_log.read_text() and "phone" not in access_log.read_text()


def test_a_follow_link_is_logged_without_its_token(nginx):
    base, access_log = nginx
    token = "9f" * 16
    answer = requests.get(f"{base}/r/{token}/", headers={"Host": "shangcheng.grid.example.gov.cn"}, timeout=10)
    assert answer.status_code == 200
    time.sleep(0.2)
    written = access_log.read_text()
    assert token not in written
    assert json.loads(written.splitlines()[-1])["message"] == "GET /r/…/ 200"

"""deploy/compose.yaml validates and has the layout the operators are promised.

Two validators, since `docker compose config` (the compose plugin) cannot run here: Debian's
docker-compose (v1.29, `config -q`: interpolation, anchors, the file format it knows; .ci/run
installs it) and the current Compose Specification's JSON schema, vendored in check-jsonschema
(pyproject's test extra). The structure tests read the file as YAML and fail if anything the
issue asks for goes missing: a health check, the one beat, the migrate job, a non-root image.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.deploy.helpers import (
    APP_SERVICES,
    COMPOSE,
    DEPLOY,
    HEALTH_PATH,
    ROOT,
    client_major,
    dockerfile_stages,
    load_yaml,
)

# Every variable compose.yaml demands (${VAR:?}); the values are placeholders for validation.
REQUIRED = {
    "POSTGRES_PASSWORD": "pg-placeholder", "REDIS_PASSWORD": "redis-placeholder",
    "S3_ACCESS_KEY": "s3-access-placeholder", "S3_SECRET_KEY": "s3-secret-placeholder",
    "SECRET_KEY": "x" * 50, "CIVICGRID_DATA_KEY": "data-key-placeholder",
    "CIVICGRID_BASE_DOMAIN": "grid.example.gov.cn", "CIVICGRID_PROVINCE_NAME": "浙江省",
    "CIVICGRID_PROVINCE_CODE": "330000", "ELASTIC_PASSWORD": "es-placeholder",
}
SECRETS = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "S3_ACCESS_KEY", "S3_SECRET_KEY", "SECRET_KEY",
           "CIVICGRID_DATA_KEY", "ELASTIC_PASSWORD")


def docker_compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    binary = shutil.which("docker-compose")
    if binary is None:  # as the browser tests do without Chromium: CI installs it, so there it runs
        pytest.skip("docker-compose is not installed: `apt-get install docker-compose` (.ci/run does)")
    clean = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    return subprocess.run([binary, "-f", str(COMPOSE), *args], env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_yaml(COMPOSE)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


# --- validators --------------------------------------------------------------------------


def test_docker_compose_config_accepts_the_file():
    result = docker_compose("config", "-q", env=REQUIRED)
    assert result.returncode == 0, result.stderr


def test_docker_compose_refuses_to_start_without_a_secret():
    for name in SECRETS:
        result = docker_compose("config", "-q", env={k: v for k, v in REQUIRED.items() if k != name})
        assert result.returncode != 0 and f"set {name}" in result.stderr, (name, result.stderr)


def test_the_compose_specification_schema_accepts_the_file():
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_misspelt_key(tmp_path):
    # The validator is not vacuous: one wrong key in a health check is an error.
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("retries: 10", "retriez: 10", 1))
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(broken)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1 and "retriez" in result.stdout


# --- the layout -------------------------------------------------------------------------


def test_every_long_running_service_has_a_health_check(services):
    # migrate is a job: it is judged by its exit status (service_completed_successfully).
    assert set(services) >= {"db", "redis", "minio", "elasticsearch", *APP_SERVICES, "proxy"}
    for name, service in services.items():
        if name == "migrate":
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"


def test_each_health_check_asks_the_right_thing(services):
    def probe(name):
        test = services[name]["healthcheck"]["test"]
        return " ".join(test) if isinstance(test, list) else test

    assert "pg_isready" in probe("db")
    assert "redis-cli ping" in probe("redis")
    assert "/minio/health/live" in probe("minio")
    assert "_cluster/health" in probe("elasticsearch")
    for name, port in (("web", 8000), ("ws", 8001)):
        # The health view answers on a tenant's or the province's host only.
        assert f"127.0.0.1:{port}{HEALTH_PATH}" in probe(name) and "CIVICGRID_BASE_DOMAIN" in probe(name)
    assert "inspect ping" in probe("worker")
    assert "beat" in probe("beat") and "/proc/1/cmdline" in probe("beat")
    assert "/nginx-health" in probe("proxy")


def test_dependencies_wait_for_health_and_for_the_migrate_job(services):
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        assert isinstance(depends, dict), f"{name}: depends_on without conditions"
        for dependency, condition in depends.items():
            expected = "service_completed_successfully" if dependency == "migrate" else "service_healthy"
            assert condition == {"condition": expected}, (name, dependency, condition)
    for name in ("web", "ws", "worker", "beat"):
        assert "migrate" in services[name]["depends_on"], name
        assert {"db", "redis"} <= set(services[name]["depends_on"]), name
    assert {"web", "ws"} <= set(services["proxy"]["depends_on"])


def test_the_migrate_job_migrates_every_schema_and_the_province_once(services):
    migrate = services["migrate"]
    command = " ".join(migrate["command"])
    assert "civicgrid migrate" in command and "civicgrid province init" in command
    assert migrate["restart"] == "no"  # a job that failed is looked at, not run in a loop


def test_exactly_one_beat(services):
    beats = [name for name, s in services.items() if "beat" in s.get("command", [])]
    assert beats == ["beat"]
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    assert "scale" not in services["beat"]


def test_the_platform_processes_share_one_image_built_from_deploy_dockerfile(services):
    for name in APP_SERVICES:
        build = services[name]["build"]
        assert (build["dockerfile"], build["target"]) == ("deploy/Dockerfile", "app"), name
        assert (DEPLOY / build["context"]).resolve() == ROOT
    assert len({services[name]["image"] for name in APP_SERVICES}) == 1
    commands = {name: services[name]["command"] for name in ("web", "ws", "worker")}
    assert commands["web"][:2] == ["gunicorn", "civicgrid.config.wsgi:application"]
    assert "python:civicgrid.config.gunicorn" in commands["web"]
    assert commands["ws"][0] == "daphne" and commands["ws"][-1] == "civicgrid.config.asgi:application"
    assert commands["worker"][:4] == ["celery", "-A", "civicgrid.config.celery", "worker"]


def test_the_image_is_built_from_the_wheel_and_runs_as_an_unprivileged_user():
    stages = dockerfile_stages(DEPLOY / "Dockerfile")
    build, app = " ".join(stages["build"]), stages["app"]
    assert "pip wheel" in build and "--wheel-dir /wheels" in build
    installs = [line for line in app if line.startswith("RUN pip install")]
    assert installs and "--no-index --find-links /wheels civicgrid" in installs[0]
    assert not any(line.startswith(("COPY civicgrid", "COPY . ")) for line in app), "source tree in the runtime"
    assert any("collectstatic" in line for line in app if line.startswith("RUN "))
    user = [line.split()[1] for line in app if line.startswith("USER ")][-1]
    assert user.split(":")[0] not in ("0", "root") and user.split(":")[0].isdigit()
    assert stages["app"][0] == "FROM ${PYTHON_IMAGE} AS app"
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.\d+-slim", (DEPLOY / "Dockerfile").read_text(), re.M)


def test_redis_appends_only_and_requires_a_password(services):
    command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in command and "--requirepass" in command


def test_elasticsearch_has_a_chinese_analyzer_of_the_clients_major_version(services):
    from civicgrid.search.backends.es_mapping import PLUGIN_ANALYZERS

    es = services["elasticsearch"]
    stages = dockerfile_stages(DEPLOY / es["build"]["context"] / "Dockerfile")
    text = " ".join(line for lines in stages.values() for line in lines)
    assert "FROM docker.elastic.co/elasticsearch/elasticsearch:${ES_VERSION}" in text
    version = es["build"]["args"]["ES_VERSION"]
    assert re.search(rf"ARG ES_VERSION={re.escape(version)}\b", text)
    assert int(version.split(".")[0]) == client_major("elasticsearch")
    plugin = re.search(r"ARG ANALYSIS_PLUGIN=(\S+)", text).group(1)
    assert plugin in PLUGIN_ANALYZERS and "elasticsearch-plugin install --batch" in text
    assert es["image"].endswith(f":{version}")


def test_secrets_are_demanded_never_defaulted():
    text = COMPOSE.read_text()
    for name in SECRETS:
        uses = re.findall(rf"\$\{{{name}(:?.)?", text)
        assert uses and all(use == ":?" for use in uses), f"{name} must be ${{{name}:?...}}: {uses}"


def test_nginx_sends_websockets_to_daphne_and_serves_the_collected_static_files(services):
    conf = (DEPLOY / "nginx.conf").read_text()
    ws_port = services["ws"]["command"][services["ws"]["command"].index("-p") + 1]
    assert re.search(rf"upstream civicgrid_ws\s*{{\s*server ws:{ws_port};", conf)
    assert re.search(r"upstream civicgrid_http\s*{\s*server web:8000;", conf)
    ws_location = re.search(r"location /ws/ \{(.*?)\}", conf, re.S).group(1)
    assert "proxy_pass http://civicgrid_ws;" in ws_location and "Upgrade $http_upgrade" in ws_location
    static = re.search(r"location /static/ \{(.*?)\}", conf, re.S).group(1)
    copied = [line for line in dockerfile_stages(DEPLOY / "Dockerfile")["proxy"] if "static" in line]
    assert copied and f"alias {copied[0].split()[-1]}/;" in static
    assert services["proxy"]["build"]["target"] == "proxy"


def test_nginx_keeps_metrics_inside_and_logs_json_lines_without_query_strings(services):
    conf = (DEPLOY / "nginx.conf").read_text()
    blocked = re.search(r"location = /metrics \{(.*?)\}", conf, re.S).group(1)
    assert "return 404;" in blocked and "proxy_pass" not in blocked
    log_format = re.search(r"log_format civicgrid_json escape=json(.*?);", conf, re.S).group(1)
    for field in ('"time"', '"level"', '"logger"', '"message"', '"request_id":"$request_id"'):
        assert field in log_format, field
    # The path without its query string, no client address.
    for variable in ("$request_uri", "$args", "$query_string", "$request ", "$remote_addr", "$http_"):
        assert variable not in log_format, variable
    assert "access_log /dev/stdout civicgrid_json;" in conf
    for location in ("/ws/", "/"):
        block = re.search(rf"location {re.escape(location)} \{{(.*?)\}}", conf, re.S).group(1)
        assert "proxy_set_header X-Request-ID $request_id;" in block, location


def test_the_processes_log_json_lines_and_daphne_keeps_no_access_log_of_its_own(services, compose):
    env = compose["x-civicgrid"]["environment"]
    assert env["CIVICGRID_LOG_FORMAT"] == "json"
    assert env["CIVICGRID_METRICS_TOKEN"] == "${CIVICGRID_METRICS_TOKEN:-}"  # optional: unset, /metrics is a 404
    ws = services["ws"]["command"]
    assert ws[ws.index("-v") + 1] == "0"

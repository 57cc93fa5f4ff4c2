"""deploy/k8s/ validates against Kubernetes' own schemas and has what the issue asks for.

kubernetes-validate (pyproject's test extra) carries the official OpenAPI schemas of each
Kubernetes release, offline; strict mode refuses any field the API does not know. The structure
tests read the manifests and fail if a probe, the single beat, an autoscaler, a disruption budget
or the non-root security context goes missing, or if names drift apart between files.
"""

from __future__ import annotations

import copy
import re

import kubernetes_validate
import pytest

from tests.deploy.helpers import COMPOSE, HEALTH_PATH, K8S, ROOT, load_all, load_yaml

# The newest schemas the validator has, and an older release a province's cluster may still run.
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
SCALED = ("web", "ws", "worker")  # the Deployments that run several replicas


@pytest.fixture(scope="module")
def kustomization() -> dict:
    return load_yaml(K8S / "kustomization.yaml")


@pytest.fixture(scope="module")
def resources(kustomization) -> list[dict]:
    return [doc for name in kustomization["resources"] for doc in load_all(K8S / name)]


def find(resources, kind: str, name: str | None = None) -> list[dict]:
    return [r for r in resources if r["kind"] == kind and (name is None or r["metadata"]["name"] == name)]


def one(resources, kind: str, name: str) -> dict:
    found = find(resources, kind, name)
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def deployment(resources, component: str) -> dict:
    return one(resources, "Deployment", f"civicgrid-{component}")


def pod_specs(resources) -> dict[str, dict]:
    specs = {r["metadata"]["name"]: r["spec"]["template"]["spec"] for r in find(resources, "Deployment")}
    specs.update({r["metadata"]["name"]: r["spec"]["template"]["spec"] for r in find(resources, "Job")})
    return specs


@pytest.fixture(scope="module")
def config(resources) -> dict:
    return one(resources, "ConfigMap", "civicgrid-config")["data"]


# --- validators --------------------------------------------------------------------------


def test_the_kustomization_ties_every_manifest():
    listed = load_yaml(K8S / "kustomization.yaml")["resources"]
    on_disk = sorted(p.name for p in K8S.glob("*.y*ml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk


@pytest.mark.parametrize("version", VERSIONS)
def test_every_manifest_matches_the_kubernetes_schemas(resources, version):
    assert len(resources) >= 20
    for resource in resources:
        kubernetes_validate.validate(resource, version, strict=True)


def test_the_schema_check_catches_a_misspelt_field(resources):
    # The validator is not vacuous: a field the API does not know is an error.
    broken = copy.deepcopy(one(resources, "PodDisruptionBudget", "civicgrid-web"))
    broken["spec"]["minAvailabel"] = broken["spec"].pop("minAvailable")
    with pytest.raises(kubernetes_validate.ValidationError, match="minAvailabel"):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


# --- the layout -------------------------------------------------------------------------


def test_namespace_config_and_secret(resources, kustomization):
    namespace = one(resources, "Namespace", kustomization["namespace"])
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for resource in resources:
        if resource["kind"] != "Namespace":
            assert resource["metadata"]["namespace"] == kustomization["namespace"], resource["metadata"]
    secret = one(resources, "Secret", "civicgrid-secrets")["stringData"]
    # Placeholders only: nothing real is ever committed.
    assert all("CHANGE-ME" in value for value in secret.values()), secret


def test_the_settings_production_demands_are_all_given(resources, config):
    production = (ROOT / "civicgrid/config/settings/production.py").read_text()
    demanded = re.search(r"_missing = \[name for name in \(([^)]*)\)", production).group(1)
    names = set(re.findall(r'"([A-Z_]+)"', demanded))
    secret = one(resources, "Secret", "civicgrid-secrets")["stringData"]
    assert names and names <= set(config) | set(secret)
    assert not set(config) & set(secret), "a setting in both the ConfigMap and the Secret"


def test_every_container_gets_the_settings_and_has_resources(resources):
    for name, spec in pod_specs(resources).items():
        for container in spec["containers"]:
            sources = [next(iter(s.values()))["name"] for s in container["envFrom"]]
            assert sources == ["civicgrid-config", "civicgrid-secrets"], name
            assert container["image"] == "civicgrid", name  # kustomization's images: sets the registry
            requests, limits = container["resources"]["requests"], container["resources"]["limits"]
            assert {"cpu", "memory"} <= set(requests) and {"cpu", "memory"} <= set(limits), name


def test_every_long_running_process_waits_for_the_migrate_job(resources):
    for name, spec in pod_specs(resources).items():
        if name == "civicgrid-migrate":
            assert "initContainers" not in spec
            continue
        [wait] = spec["initContainers"]
        assert wait["command"] == ["civicgrid", "migrate", "--check"], name
        assert wait["image"] == "civicgrid" and [next(iter(s.values()))["name"] for s in wait["envFrom"]] == [
            "civicgrid-config", "civicgrid-secrets"], name
        assert wait["securityContext"]["allowPrivilegeEscalation"] is False, name


def test_every_pod_runs_as_non_root_without_privileges(resources):
    for name, spec in pod_specs(resources).items():
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in spec["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"], name


def test_web_and_ws_are_probed_on_the_health_view_with_the_province_host(resources, config):
    for component in ("web", "ws"):
        container = deployment(resources, component)["spec"]["template"]["spec"]["containers"][0]
        ports = {p["name"] for p in container["ports"]}
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            get = container[probe]["httpGet"]
            assert get["path"] == HEALTH_PATH and get["port"] in ports, (component, probe)
            # Any other host is a 404 (hosts are tenants): the probe must name the province's.
            assert get["httpHeaders"] == [{"name": "Host", "value": config["CIVICGRID_BASE_DOMAIN"]}]


def test_worker_and_beat_have_liveness_probes(resources):
    worker = deployment(resources, "worker")["spec"]["template"]["spec"]["containers"][0]
    assert "inspect ping" in " ".join(worker["livenessProbe"]["exec"]["command"])
    beat = deployment(resources, "beat")["spec"]["template"]["spec"]["containers"][0]
    assert "/proc/1/cmdline" in " ".join(beat["livenessProbe"]["exec"]["command"])


def test_scaled_deployments_have_replicas_and_disruption_budgets(resources):
    for component in SCALED:
        d = deployment(resources, component)
        assert d["spec"]["replicas"] >= 2, component
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert d["spec"]["selector"]["matchLabels"].items() <= labels.items()
        budget = one(resources, "PodDisruptionBudget", f"civicgrid-{component}")
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items(), component
        assert budget["spec"]["minAvailable"] < d["spec"]["replicas"], component  # drains can proceed


def test_web_and_worker_scale_on_their_own(resources):
    for component in ("web", "worker"):
        hpa = one(resources, "HorizontalPodAutoscaler", f"civicgrid-{component}")
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                                 "name": f"civicgrid-{component}"}
        assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
        assert hpa["spec"]["metrics"], component


def test_exactly_one_beat(resources):
    beats = [d["metadata"]["name"] for d in find(resources, "Deployment")
             if "beat" in d["spec"]["template"]["spec"]["containers"][0]["command"]]
    assert beats == ["civicgrid-beat"]
    beat = deployment(resources, "beat")
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"] == {"type": "Recreate"}
    targets = {h["spec"]["scaleTargetRef"]["name"] for h in find(resources, "HorizontalPodAutoscaler")}
    assert "civicgrid-beat" not in targets


def test_the_migrate_job_runs_once_per_release(resources):
    job = one(resources, "Job", "civicgrid-migrate")
    spec = job["spec"]["template"]["spec"]
    command = " ".join(spec["containers"][0]["command"])
    assert "civicgrid migrate" in command and "civicgrid province init" in command
    assert spec["restartPolicy"] == "Never" and job["spec"]["backoffLimit"] <= 3


def test_the_processes_run_what_compose_runs(resources):
    services = load_yaml(COMPOSE)["services"]
    for component in ("web", "ws", "beat"):
        container = deployment(resources, component)["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == services[component]["command"], component
    worker = deployment(resources, "worker")["spec"]["template"]["spec"]["containers"][0]["command"]
    assert worker[:4] == services["worker"]["command"][:4]
    job = one(resources, "Job", "civicgrid-migrate")["spec"]["template"]["spec"]["containers"][0]
    assert job["command"] == services["migrate"]["command"]


def test_services_select_their_pods_and_ports(resources):
    for component in ("web", "ws"):
        service = one(resources, "Service", f"civicgrid-{component}")
        pod = deployment(resources, component)["spec"]["template"]
        assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
        ports = {p["name"] for p in pod["spec"]["containers"][0]["ports"]}
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports


def test_backing_services_are_the_operators_reached_by_name(resources, config):
    external = {s["metadata"]["name"] for s in find(resources, "Service") if s["spec"].get("type") == "ExternalName"}
    assert external == {"postgres", "redis", "minio", "elasticsearch"}
    assert not find(resources, "StatefulSet")
    secret = one(resources, "Secret", "civicgrid-secrets")["stringData"]
    assert "@postgres:5432/" in secret["DATABASE_URL"] and "@redis:6379/" in secret["REDIS_URL"]
    assert "@elasticsearch:9200" in secret["ELASTICSEARCH_URL"] and config["S3_ENDPOINT"] == "minio:9000"


def test_the_ingress_sends_websockets_to_daphne_with_long_timeouts(resources, config):
    domain = config["CIVICGRID_BASE_DOMAIN"]
    backends = {}
    for ingress in find(resources, "Ingress"):
        hosts = [rule["host"] for rule in ingress["spec"]["rules"]]
        assert hosts == [domain, f"*.{domain}"], hosts
        assert ingress["spec"]["tls"][0]["hosts"] == hosts
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backends[path["path"]] = (path["backend"]["service"]["name"], ingress["metadata"], path["pathType"])
    assert set(backends) == {"/", "/ws/", "/metrics"}
    assert backends["/"][0] == "civicgrid-web" and backends["/ws/"][0] == "civicgrid-ws"
    annotations = backends["/ws/"][1]["annotations"]
    # Above the page's one-minute ping, or every idle console is cut off.
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[f"nginx.ingress.kubernetes.io/{timeout}"]) >= 120


def test_the_ingress_gives_metrics_to_no_client(resources):
    """Prometheus scrapes the pods inside the cluster; through the Ingress /metrics is refused
    (ingress-nginx's allowlist admits only the controller's own loopback, which never asks)."""
    blocked = one(resources, "Ingress", "civicgrid-metrics-blocked")
    allowed = blocked["metadata"]["annotations"]["nginx.ingress.kubernetes.io/whitelist-source-range"]
    assert allowed == "127.0.0.1/32"
    paths = [path for rule in blocked["spec"]["rules"] for path in rule["http"]["paths"]]
    assert paths and all((p["path"], p["pathType"]) == ("/metrics", "Exact") for p in paths)


def test_logs_are_json_lines_and_the_metrics_token_is_a_placeholder_too_short_to_open(resources, config):
    from civicgrid.platform.monitoring.middleware import MIN_TOKEN_LENGTH

    assert config["CIVICGRID_LOG_FORMAT"] == "json"
    token = one(resources, "Secret", "civicgrid-secrets")["stringData"]["CIVICGRID_METRICS_TOKEN"]
    assert len(token) < MIN_TOKEN_LENGTH  # forgotten, it leaves /metrics a 404 rather than open to a known value
    ws = deployment(resources, "ws")["spec"]["template"]["spec"]["containers"][0]["command"]
    assert ws[ws.index("-v") + 1] == "0"  # daphne's own access log (query strings) off

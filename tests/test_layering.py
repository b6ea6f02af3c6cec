"""The import-linter contracts (pyproject.toml, run by ``make lint``) cover the whole tree and bite.

``make lint`` runs ``lint-imports`` on the real tree; these tests make its passing mean something:
every context package is in the layers contract (a new one cannot be left out), and a copy of the
tree with one wrong import breaks exactly the contract that forbids it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

PACKAGES = ("auth_service", "customer_service", "shared", "devstack")
LAYER_MODULES = {"controllers", "admin_controllers", "service", "repository"}
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {contract["id"]: contract for contract in config["tool"]["importlinter"]["contracts"]}


def test_every_context_is_a_container_of_the_layers_contract() -> None:
    contexts = {
        ".".join(folder.relative_to(ROOT).parts)
        for service in ("auth_service", "customer_service")
        for folder in (ROOT / service).iterdir()
        if folder.is_dir() and any((folder / f"{name}.py").exists() for name in LAYER_MODULES)
    }
    assert contexts == set(_contracts()["context-layers"]["containers"])


def test_the_root_packages_are_every_top_level_package_but_tests() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert tuple(config["tool"]["importlinter"]["root_packages"]) == PACKAGES


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the packages and the contracts, free to be broken."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint_imports(tree: Path, contract: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", "--contract", contract],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def add_line(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # deliberately wrong\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("module", "wrong_import", "contract"),
    [
        ("shared/serve.py", "import auth_service", "shared-is-a-library"),
        ("shared/logs.py", "import devstack.stack", "shared-is-a-library"),
        ("customer_service/cli.py", "import auth_service.settings", "customer-service-alone"),
        ("auth_service/cli.py", "import customer_service", "auth-service-alone"),
        (
            "customer_service/customers/repository.py",
            "from customer_service.customers import controllers",
            "context-layers",
        ),
        ("auth_service/users/service.py", "import auth_service.users.controllers", "context-layers"),
        ("auth_service/roles/repository.py", "import auth_service.users.service", "repositories-below"),
    ],
)
def test_a_wrong_import_breaks_its_contract(
    tree: Path, module: str, wrong_import: str, contract: str
) -> None:
    before = lint_imports(tree, contract)
    assert "BROKEN" not in before.stdout, before.stdout
    add_line(tree / module, wrong_import)
    after = lint_imports(tree, contract)
    assert after.returncode == 1, after.stdout + after.stderr
    assert f"{_contracts()[contract]['name']} BROKEN" in " ".join(after.stdout.split())
    assert module.removesuffix(".py").replace("/", ".") in after.stdout

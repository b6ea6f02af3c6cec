"""Settings come from the environment; a bad value stops start-up with one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from auth_service.settings import settings_from_env as auth_settings
from customer_service.settings import settings_from_env as customer_settings
from shared.settings import SettingsError
from tests.conftest import ROOT


def test_defaults_are_documented_values() -> None:
    settings = auth_settings({})
    assert settings.http.port == 8000
    assert settings.tokens.issuer == "http://127.0.0.1:8000"
    assert customer_settings({}).http.port == 8001


def test_issuer_follows_the_port_unless_set() -> None:
    assert auth_settings({"AUTH_PORT": "18000"}).tokens.issuer == "http://127.0.0.1:18000"
    assert auth_settings({"AUTH_ISSUER": "https://id.example.com/"}).tokens.issuer == "https://id.example.com"


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"AUTH_PORT": "eighty"}, "AUTH_PORT"),
        ({"AUTH_PORT": "70000"}, "AUTH_PORT"),
        ({"AUTH_LOG_LEVEL": "loud"}, "AUTH_LOG_LEVEL"),
        ({"AUTH_DB_POOL_MAX": "0"}, "AUTH_DB_POOL_MAX"),
    ],
)
def test_invalid_value_names_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=f"^{variable}: "):
        auth_settings(environ)


@pytest.mark.parametrize(
    ("module", "variable"), [("auth_service", "AUTH_PORT"), ("customer_service", "CUSTOMER_PORT")]
)
def test_service_refuses_to_start_with_one_clear_line(module: str, variable: str) -> None:
    env = {**os.environ, variable: "not-a-port"}
    result = subprocess.run(
        [sys.executable, "-m", module, "serve"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert "Traceback" not in result.stderr

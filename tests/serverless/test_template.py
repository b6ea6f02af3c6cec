"""deploy/serverless/template.yaml: cfn-lint validates it offline (its SAM resources against the
SAM schemas cfn-lint ships), and it says what a deployment needs: every customer route behind the
JWT authorizer with a scope the app itself requires, our issuer and audience, a reserved
concurrency, log retention and alarms for every function, the KEK only by name, settings that
exist, and handlers that import."""

from __future__ import annotations

import functools
import importlib
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from auth_service.lambda_handler import KEK_SECRET_ENV
from auth_service.settings import AuthSettings
from customer_service.app import create_app
from customer_service.settings import CustomerSettings
from shared.settings import env_name, leaf_fields
from tests.customer_service.conftest import key_source, settings_for
from tests.deploy.paths import DEPLOY, tool

TEMPLATE = DEPLOY / "serverless" / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (``!Ref X`` reads as ``{"Ref": "X"}``)."""


def _tagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _tagged)


@functools.cache
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_CloudFormationLoader)  # noqa: S506
    return loaded


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template()["Resources"].items() if r["Type"] == kind}


def functions() -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in resources("AWS::Serverless::Function").items()}


def cfn_lint(path: Path) -> subprocess.CompletedProcess[str]:
    linter = tool("cfn-lint")
    if linter is None:
        pytest.skip("cfn-lint not installed (the dev lock installs it)")
    return subprocess.run([linter, str(path)], capture_output=True, text=True, check=False)


def test_cfn_lint_refuses_a_misspelt_property_and_passes_the_template(tmp_path: Path) -> None:
    broken = tmp_path / "template.yaml"
    broken.write_text(
        TEMPLATE.read_text().replace("ReservedConcurrentExecutions:", "ReservedConcurrentExecution:")
    )
    refused = cfn_lint(broken)
    assert refused.returncode != 0
    assert "ReservedConcurrentExecution" in refused.stdout
    linted = cfn_lint(TEMPLATE)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_the_jwt_authorizer_trusts_our_issuer_and_audience() -> None:
    api = resources("AWS::Serverless::HttpApi")["HttpApi"]["Properties"]
    authorizer = api["Auth"]["Authorizers"]["OurTokens"]
    assert authorizer["IdentitySource"] == "$request.header.Authorization"
    jwt = authorizer["JwtConfiguration"]
    assert jwt["issuer"] == {"Fn::Sub": "https://${DomainName}"}
    assert jwt["audience"] == [{"Ref": "CustomerAudience"}]
    for name in ("AuthFunction", "MaintenanceFunction"):
        assert functions()[name]["Environment"]["Variables"]["AUTH_ISSUER"] == jwt["issuer"]
    customer = functions()["CustomerFunction"]["Environment"]["Variables"]
    assert (customer["CUSTOMER_ISSUER"], customer["CUSTOMER_AUDIENCE"]) == (jwt["issuer"], jwt["audience"][0])


def _covers(pattern: str, path: str) -> bool:
    """An API Gateway route path matches a concrete path (``{proxy+}``: one segment or more)."""
    regex = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.sub(r"\\\{[^}+]+\\\}", "[^/]+", re.escape(pattern)))
    return re.fullmatch(regex, path) is not None


def test_every_customer_route_is_behind_the_authorizer_with_a_scope_the_app_requires() -> None:
    events = functions()["CustomerFunction"]["Events"]
    routes = [e["Properties"] for e in events.values()]
    schema = create_app(
        settings_for("postgresql://unused/db"), key_source=key_source()
    ).openapi_schema.to_schema()
    checked = 0
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            concrete = path.replace("{cpf}", "52998224725")
            covering = [r for r in routes if r["Method"] == method.upper() and _covers(r["Path"], concrete)]
            assert covering, f"{method} {path} has no route"
            required = set(operation["security"][0]["bearerToken"])
            for route in covering:
                assert route["Auth"]["Authorizer"] == "OurTokens"
                assert set(route["Auth"]["AuthorizationScopes"]) <= required, (method, path)
            checked += 1
    assert checked >= 7
    assert all(r["PayloadFormatVersion"] == "2.0" for r in routes)


def test_limits_logs_and_alarms_for_every_function() -> None:
    groups = {
        g["Properties"]["LogGroupName"]["Fn::Sub"]: g["Properties"]
        for g in resources("AWS::Logs::LogGroup").values()
    }
    alarmed = {
        a["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for a in resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "Errors"
    }
    for name, function in functions().items():
        assert "ReservedConcurrentExecutions" in function, name
        assert groups[f"/aws/lambda/${{{name}}}"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        assert name in alarmed


def test_secrets_by_name_only_and_what_the_authorizer_needs_of_our_keys() -> None:
    parameters = template()["Parameters"]
    for name in ("AuthDatabaseUrl", "CustomerDatabaseUrl"):
        assert parameters[name]["NoEcho"] is True
    text = TEMPLATE.read_text()
    assert "AUTH_KEY_ENCRYPTION_KEY" not in text  # neither the key nor a file of it: its name only
    for name in ("AuthFunction", "MaintenanceFunction"):
        variables = functions()[name]["Environment"]["Variables"]
        assert variables[KEK_SECRET_ENV] == {"Ref": "KeyEncryptionKeySecret"}
        assert variables["AUTH_SIGNING_ALG"] == "RS256"  # the authorizer verifies RSA only
        assert int(variables["AUTH_KEY_PREPUBLISH_SECONDS"]) > 2 * 3600  # its JWKS cache: two hours
    assert functions()["AuthFunction"]["Environment"]["Variables"]["AUTH_PURGE_INTERVAL"] == "0"


def test_every_variable_is_a_setting_and_every_handler_imports() -> None:
    known = {env_name("AUTH_", f.name) for _, f in leaf_fields(AuthSettings)} | {KEK_SECRET_ENV}
    known |= {env_name("CUSTOMER_", f.name) for _, f in leaf_fields(CustomerSettings)}
    for name, function in functions().items():
        unknown = set(function["Environment"]["Variables"]) - known
        assert not unknown, (name, unknown)
        module, _, attribute = function["Handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module), attribute)), name

"""deploy/monitoring: alert rules and the Grafana dashboard speak about metrics the services emit."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client.metrics_core import Metric

from auth_service.metrics import METRIC_NAMES, AuthMetrics
from tests.deploy.paths import DEPLOY, ROOT, tool

MONITORING = DEPLOY / "monitoring"
ALERTS = MONITORING / "alerts.yml"
DASHBOARD = MONITORING / "grafana-dashboard.json"
TARGET_LABELS = {"job", "instance"}  # added by Prometheus to every scraped series
REQUIRED_ALERTS = {
    "HighServerErrorRate", "HighLatencyP99", "LoginFailureSpike", "ThrottlingSpike", "JwksStale",
    "SigningKeyRotationOverdue", "DatabaseDown", "RedisDown", "RevocationFeedStale",
}  # fmt: skip


async def _passes() -> bool:
    return True


def emitted_series() -> dict[str, set[str]]:
    """Every series name the services expose, with its label names, from metrics in use (the auth
    service's are a superset of the shared ones the customer service has)."""
    metrics = AuthMetrics("test")
    metrics.requests.observe("GET", "/r", 200, 0.01)
    for record in (metrics.login_failure, metrics.token_verification_failure, metrics.jwks_fetch,
                   metrics.key_rotation, metrics.redis_error):  # fmt: skip
        record("x")
    metrics.token_request("password", "issued")
    metrics.throttle_decision("login", throttled=True)
    metrics.watch_jwks_age(lambda: 1.0)
    metrics.watch_revocation_feed_age(lambda: 1.0)
    metrics.revocation_event("sid")
    metrics.revocation_feed_error()
    metrics.watch_signing_key(lambda: 1.0, rotation_interval=60)
    metrics.watch_db_pool(lambda: (1, 2), max_size=3)
    asyncio.run(metrics.check_dependencies({"database": _passes}, 1.0))
    families: list[Metric] = list(metrics.registry.collect())
    series: dict[str, set[str]] = {"up": set()}
    for family in families:
        for sample in family.samples:
            series.setdefault(sample.name, set()).update(sample.labels)
    return series


SERIES = emitted_series()


def selectors(expr: str) -> list[promql_parser.VectorSelector]:
    found: list[promql_parser.VectorSelector] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def assert_speaks_of_real_series(expr: str, where: str) -> set[str]:
    names = set()
    for selector in selectors(expr):
        assert selector.name in SERIES, f"{where}: {selector.name} is not a metric the services emit"
        labels = {m.name for m in selector.matchers.matchers}
        unknown = labels - SERIES[selector.name] - TARGET_LABELS
        assert not unknown, f"{where}: {selector.name} has no label {unknown}"
        names.add(selector.name)
    return names


def family_of(series_name: str) -> str:
    for name in METRIC_NAMES:
        if series_name in {name, f"{name}_bucket", f"{name}_count", f"{name}_sum"}:
            return name
    return series_name


@pytest.fixture(scope="module")
def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_required_alert_exists_with_severity_and_text(rules: list[dict[str, Any]]) -> None:
    assert {rule["alert"] for rule in rules} >= REQUIRED_ALERTS
    for rule in rules:
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
        assert rule["annotations"]["description"]


def test_every_expression_parses_and_names_emitted_metrics_and_labels(rules: list[dict[str, Any]]) -> None:
    for rule in rules:
        assert assert_speaks_of_real_series(rule["expr"], rule["alert"])


def test_a_misspelt_metric_or_label_is_caught() -> None:
    with pytest.raises(AssertionError, match="not a metric"):
        assert_speaks_of_real_series("rate(auth_login_failure_total[5m])", "typo")
    with pytest.raises(AssertionError, match="has no label"):
        assert_speaks_of_real_series('rate(auth_token_requests_total{grant="password"}[5m])', "typo")
    with pytest.raises(ValueError, match="parenthesis"):
        selectors("sum by (job (rate(up[5m])")


def promtool() -> str:
    found = os.environ.get("PROMTOOL") or tool("promtool")
    if not found:
        pytest.skip("promtool not installed (no PyPI wheel; Debian's prometheus package has it): "
                    "the rules are still parsed and checked against the metrics above")  # fmt: skip
    return found


def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run(
        [promtool(), "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_alerts_fire_on_the_series_that_should_trip_them(tmp_path: Path) -> None:
    """promtool's rule unit tests (tests/deploy/alerts_test.yml), annotations aside."""
    binary = promtool()
    document = yaml.safe_load(ALERTS.read_text())
    for group in document["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    (tmp_path / "alerts.yml").write_text(yaml.safe_dump(document))
    unit_tests = yaml.safe_load((ROOT / "tests" / "deploy" / "alerts_test.yml").read_text())
    unit_tests["rule_files"] = [str(tmp_path / "alerts.yml")]
    (tmp_path / "alerts_test.yml").write_text(yaml.safe_dump(unit_tests))
    result = subprocess.run(
        [binary, "test", "rules", str(tmp_path / "alerts_test.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------------ dashboard
@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())  # type: ignore[no-any-return]


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def as_promql(expr: str) -> str:
    """Grafana's variables replaced by values Prometheus would receive."""
    return expr.replace("$__rate_interval", "1m").replace("$job", ".+").replace("$instance", ".+")


def test_dashboard_has_a_panel_for_every_metric(dashboard: dict[str, Any]) -> None:
    shown: set[str] = set()
    for panel in panels(dashboard):
        for target in panel["targets"]:
            names = assert_speaks_of_real_series(as_promql(target["expr"]), panel["title"])
            shown |= {family_of(name) for name in names}
    missing = set(METRIC_NAMES) - shown
    assert not missing, f"no panel shows {missing}"


def test_dashboard_is_importable(dashboard: dict[str, Any]) -> None:
    assert dashboard["uid"]
    assert dashboard["schemaVersion"] >= 36
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    occupied: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        cells = {(grid["x"] + dx, grid["y"] + dy) for dx in range(grid["w"]) for dy in range(grid["h"])}
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells
    for panel in panels(dashboard):
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            assert re.search(r'job=~"\$job"', target["expr"]), f"{panel['title']}: not filtered by $job"

"""Print the PrometheusRule for deploy/kubernetes/components/prometheus-operator from alerts.yml.

Run ``python -m tests.deploy.prometheus_rule > <component>/prometheus-rule.yaml`` after editing
deploy/monitoring/alerts.yml; tests/deploy/test_kubernetes.py fails when the committed file
differs from this output.
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.deploy.paths import DEPLOY

HEADER = (
    "# Generated from deploy/monitoring/alerts.yml (edit that file, then regenerate):\n"
    "#   python -m tests.deploy.prometheus_rule > "
    "deploy/kubernetes/components/prometheus-operator/prometheus-rule.yaml\n"
)


class _BlockStrings(yaml.SafeDumper):
    """Multi-line PromQL stays a readable literal block."""


def _string(dumper: yaml.SafeDumper, data: str) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None)


_BlockStrings.add_representer(str, _string)


def prometheus_rule() -> str:
    groups = yaml.safe_load((DEPLOY / "monitoring" / "alerts.yml").read_text())["groups"]
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "fintech-auth"},
        "spec": {"groups": groups},
    }
    return HEADER + yaml.dump(rule, Dumper=_BlockStrings, sort_keys=False, width=110)


if __name__ == "__main__":
    print(prometheus_rule(), end="")

"""The auth service's own metrics, beside the shared ones every service emits.

``AuthMetrics`` is a ``ServiceMetrics`` (one registry, one ``/metrics``) plus the families only an
issuer has: token requests, failed logins, throttling decisions and signing-key rotation. Their
names and labels are what ``deploy/monitoring`` (alerts, dashboard) is written against.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import Counter

from auth_service.keys.repository import SigningKeyRow
from shared.metrics import ServiceMetrics
from shared.metrics.scrape_time import single_value
from shared.metrics.service import METRIC_NAMES as SHARED_METRIC_NAMES

__all__ = ["AUTH_METRIC_NAMES", "GRANT_TYPES", "METRIC_NAMES", "AuthMetrics", "active_key_age"]

GRANT_TYPES = (
    "authorization_code",
    "password",
    "refresh_token",
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:device_code",
)
"""The grant types counted by name; any other ``grant_type`` is counted as ``other``."""

AUTH_METRIC_NAMES = (
    "auth_token_requests_total",
    "auth_login_failures_total",
    "auth_throttle_decisions_total",
    "auth_signing_key_rotations_total",
    "auth_signing_key_age_seconds",
    "auth_signing_key_rotation_interval_seconds",
)
"""Every family defined here (counters by their exposed ``_total`` name)."""

METRIC_NAMES = SHARED_METRIC_NAMES + AUTH_METRIC_NAMES
"""Every family the auth service exposes."""


class AuthMetrics(ServiceMetrics):
    """Recording methods take codes from small fixed sets (grant types, RFC 6749 error codes,
    failure reasons, limiter names), never user input: each label value is a series for ever."""

    def __init__(self, service: str = "auth-service", *, version: str | None = None) -> None:
        super().__init__(service, version=version)
        self._token_requests = self.counter(
            "auth_token_requests",
            "Token endpoint requests by grant type and outcome: issued, or the RFC 6749 error code.",
            "grant_type",
            "outcome",
        )
        self._token_request_children: dict[tuple[str, str], Counter] = {}
        for grant in GRANT_TYPES:  # present from the start, so rate() sees the first issuance
            self._token_requests.labels(grant, "issued")
        self._login_failures = self.counter(
            "auth_login_failures", "Failed password logins by reason.", "reason"
        )
        self._throttle = self.counter(
            "auth_throttle_decisions", "Rate-limit decisions by limiter: allowed or throttled.", "limiter",
            "decision",
        )  # fmt: skip
        self._rotations = self.counter(
            "auth_signing_key_rotations",
            "Signing key rotations this replica started, by trigger: scheduled or manual (API).",
            "trigger",
        )

    # ------------------------------------------------------------------ events
    def token_request(self, grant_type: str, outcome: str) -> None:
        """``outcome`` is ``issued`` or the RFC 6749 error code answered."""
        # One labelled child per (grant, outcome), looked up without prometheus-client's lock: the
        # token endpoint's hot path. Both labels come from small fixed sets.
        child = self._token_request_children.get((grant_type, outcome))
        if child is None:
            child = self._token_request_children[(grant_type, outcome)] = self._token_requests.labels(
                grant_type, outcome
            )
        child.inc()

    def login_failure(self, reason: str) -> None:
        self._login_failures.labels(reason).inc()

    def throttle_decision(self, limiter: str, *, throttled: bool) -> None:
        self._throttle.labels(limiter, "throttled" if throttled else "allowed").inc()

    def key_rotation(self, trigger: str) -> None:
        self._rotations.labels(trigger).inc()

    # ---------------------------------------------------- read at scrape time
    def watch_signing_key(self, age: Callable[[], float | None], rotation_interval: float | None) -> None:
        """``age``: seconds since the active signing key started signing; the interval is the schedule's.

        Exporting the configured interval lets the "rotation overdue" alert follow the setting.
        """
        self.watch(
            "auth_signing_key_age_seconds",
            "Seconds since the active signing key started signing.",
            single_value(age),
        )
        if rotation_interval:
            interval = float(rotation_interval)
            self.watch(
                "auth_signing_key_rotation_interval_seconds",
                "The configured automatic rotation interval.",
                single_value(lambda: interval),
            )


def active_key_age(rows: Callable[[], list[SigningKeyRow]]) -> Callable[[], float | None]:
    """Seconds since the active key of ``rows()`` started signing (``None`` before one is loaded)."""

    def age() -> float | None:
        active = next((row for row in rows() if row.state == "active"), None)
        if active is None:
            return None
        return time.time() - (active.activated_at or active.activate_at).timestamp()

    return age

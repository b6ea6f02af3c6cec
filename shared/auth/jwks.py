"""The issuer's JWKS, fetched over HTTP and cached the way a careful resource server does.

- ``jwks_uri`` comes from the issuer's metadata (RFC 8414, then OIDC discovery), whose ``issuer``
  must equal ours (RFC 8414 §3.3), unless a URL is configured.
- Freshness follows the response's ``Cache-Control: max-age``; a background task refetches before
  it runs out (``ETag``/``If-None-Match`` keep refetches cheap).
- A token with an unknown ``kid`` triggers at most one refetch per ``unknown_kid_interval``, and
  concurrent requests share it (single flight), so forged kids cannot hammer the issuer.
- The issuer being down is survived: the last good keys stay usable for ``stale_if_error``
  seconds after they went stale; after that no key is usable and readiness fails.

Every deadline is read from ``clock`` (``time.monotonic`` unless a test hands in one it can move),
so a test sees keys go stale, or an unknown-kid interval pass, without waiting for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from shared.auth.keys import PreparedKey, UnusableKey

__all__ = ["JwksCache", "JwksUnavailable"]

log = logging.getLogger(__name__)

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
_METADATA_PATHS = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")
_MAX_JWKS_BYTES = 256 * 1024


class JwksUnavailable(Exception):
    pass


class JwksCache:
    """A ``KeySource`` backed by the issuer's JWKS; ``start()`` in the app's lifespan, ``close()`` after."""

    def __init__(
        self,
        issuer: str,
        *,
        jwks_url: str | None = None,
        default_max_age: float = 300.0,
        min_max_age: float = 5.0,
        unknown_kid_interval: float = 10.0,
        stale_if_error: float = 24 * 3600.0,
        http: httpx.AsyncClient | None = None,
        on_fetch: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.jwks_url = jwks_url
        self.default_max_age = default_max_age
        self.min_max_age = min_max_age
        self.unknown_kid_interval = unknown_kid_interval
        self.stale_if_error = stale_if_error
        self.on_fetch = on_fetch
        self._clock = clock
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(5.0), follow_redirects=False)
        self._owns_http = http is None
        self._keys: dict[str, PreparedKey] = {}
        self._etag: str | None = None
        self._fresh_until = 0.0
        self._usable_until = 0.0
        self._fetched_at: float | None = None
        self._last_attempt = float("-inf")
        self._in_flight: asyncio.Task[None] | None = None
        self._background: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ KeySource
    def get(self, kid: str) -> PreparedKey | None:
        if self._clock() > self._usable_until:
            return None
        return self._keys.get(kid)

    async def refresh_for_unknown_kid(self, kid: str) -> None:
        if self._clock() - self._last_attempt < self.unknown_kid_interval and self._in_flight is None:
            return
        with contextlib.suppress(JwksUnavailable):
            await self.refresh()

    def is_ready(self) -> bool:
        return bool(self._keys) and self._clock() <= self._usable_until

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start background refreshing; does not wait for the issuer (it may be down at start-up)."""
        if self._background is None:
            self._background = asyncio.create_task(self._refresh_forever(), name="jwks-refresh")

    async def close(self) -> None:
        if self._background is not None:
            self._background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._background
            self._background = None
        if self._owns_http:
            await self._http.aclose()

    @property
    def age_seconds(self) -> float | None:
        """Seconds since the key set was last confirmed by the issuer (for metrics)."""
        return None if self._fetched_at is None else self._clock() - self._fetched_at

    async def _refresh_forever(self) -> None:
        retry = 1.0
        while True:
            try:
                await self.refresh()
                retry = 1.0
                delay = max(self.min_max_age, (self._fresh_until - self._clock()) * 0.8)
            except JwksUnavailable as exc:
                log.warning("JWKS refresh failed; keeping cached keys: %s", exc)
                delay, retry = retry, min(retry * 2, 30.0)
            await asyncio.sleep(delay)

    # -------------------------------------------------------------- fetching
    async def refresh(self) -> None:
        """Fetch now; concurrent callers share one fetch."""
        if self._in_flight is None:
            self._in_flight = asyncio.create_task(self._fetch())
        task = self._in_flight
        try:
            await asyncio.shield(task)
        finally:
            if task.done() and self._in_flight is task:
                self._in_flight = None

    async def _fetch(self) -> None:
        self._last_attempt = self._clock()
        try:
            url = self.jwks_url or await self._discover()
            headers = {"If-None-Match": self._etag} if self._etag and self._keys else {}
            response = await self._http.get(url, headers=headers)
        except httpx.HTTPError as exc:
            self._count("error")
            raise JwksUnavailable(f"{type(exc).__name__}: {exc}") from None
        if response.status_code == 304:
            self._count("not_modified")
            self._mark_fresh(response)
            return
        if response.status_code != 200 or len(response.content) > _MAX_JWKS_BYTES:
            self._count("error")
            raise JwksUnavailable(f"JWKS answered {response.status_code}")
        keys = self._parse(response)
        if not keys:
            self._count("error")
            raise JwksUnavailable("JWKS holds no usable signing key")
        self._keys = keys
        self._etag = response.headers.get("etag")
        self._mark_fresh(response)
        self._count("updated")

    async def _discover(self) -> str:
        for path in _METADATA_PATHS:
            response = await self._http.get(self.issuer + path)
            if response.status_code != 200:
                continue
            metadata = response.json()
            if not isinstance(metadata, dict) or metadata.get("issuer", "").rstrip("/") != self.issuer:
                raise JwksUnavailable("issuer metadata names another issuer")
            jwks_uri = metadata.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
                raise JwksUnavailable("issuer metadata has no jwks_uri")
            self.jwks_url = jwks_uri
            return jwks_uri
        raise JwksUnavailable("no issuer metadata found")

    def _parse(self, response: httpx.Response) -> dict[str, PreparedKey]:
        try:
            document: Any = response.json()
        except ValueError:
            raise JwksUnavailable("JWKS is not JSON") from None
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise JwksUnavailable("JWKS has no keys array")
        keys: dict[str, PreparedKey] = {}
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            try:
                key = PreparedKey.from_jwk(entry)
            except UnusableKey as exc:
                log.info("ignoring JWK %s: %s", entry.get("kid"), exc)
                continue
            keys[key.kid] = key
        return keys

    def _mark_fresh(self, response: httpx.Response) -> None:
        match = _MAX_AGE.search(response.headers.get("cache-control", ""))
        max_age = float(match.group(1)) if match else self.default_max_age
        now = self._clock()
        self._fresh_until = now + max(max_age, self.min_max_age)
        self._usable_until = self._fresh_until + self.stale_if_error
        self._fetched_at = now

    def _count(self, outcome: str) -> None:
        if self.on_fetch is not None:
            self.on_fetch(outcome)

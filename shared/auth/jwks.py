"""The issuer's JWKS, fetched over HTTP and cached the way a careful resource server does.

- ``jwks_uri`` comes from the issuer's metadata (RFC 8414, then OIDC discovery), whose ``issuer``
  must equal ours (RFC 8414 §3.3), unless a URL is configured.
- Freshness follows the response's ``Cache-Control: max-age``; a background task refetches before
  it runs out (``ETag``/``If-None-Match`` keep refetches cheap). The set each fetch brings
  replaces the last one whole, so a key the issuer unpublished is gone after the next refresh.
- A token with an unknown ``kid`` triggers at most one refetch per ``unknown_kid_interval``, and
  concurrent requests share it (single flight), so forged kids cannot hammer the issuer.
- The issuer being down is survived: the last good keys stay usable for ``stale_if_error``
  seconds after they went stale; after that no key is usable and readiness fails.
- Answers are input from the network: metadata or a JWKS that is not a JSON object is a failed
  fetch, a malformed key entry is skipped (the rest of the set loads) and a ``kid`` listed twice
  is refused for both keys, since nothing says which of them the issuer meant. ``refresh`` raises
  ``JwksUnavailable`` and nothing else, and the background task survives any error: a refresher
  that died on one odd answer would keep a removed key trusted until ``stale_if_error`` ran out.
- ``revoke(kid)`` drops a key at once and keeps it refused even while fetched sets still list it
  (a CDN or cache in front of the issuer may serve the old set for a while); a refetch follows at
  once to pick up the issuer's replacement key.

Every deadline is read from ``clock`` (``time.monotonic`` unless a test hands in one it can move),
so a test sees keys go stale, or an unknown-kid interval pass, without waiting for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import httpx

from shared.auth.keys import PreparedKey, RevokedKids, prepare_key_set

__all__ = ["JwksCache", "JwksUnavailable"]

log = logging.getLogger(__name__)

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
_METADATA_PATHS = ("/.well-known/oauth-authorization-server", "/.well-known/openid-configuration")
_MAX_BODY_BYTES = 256 * 1024
_FIRST_RETRY, _LAST_RETRY = 1.0, 30.0
# A longer max-age is read as this: an unpublished key must not stay trusted for longer (and
# ``max-age=99999...`` must not overflow a deadline).
_LONGEST_MAX_AGE = 24 * 3600.0


class JwksUnavailable(Exception):
    pass


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    """The body as a JSON object, else ``JwksUnavailable`` (deep nesting ends in RecursionError)."""
    if len(response.content) > _MAX_BODY_BYTES:
        raise JwksUnavailable(f"{what} is larger than {_MAX_BODY_BYTES} bytes")
    try:
        document = json.loads(response.content)
    except (ValueError, RecursionError):
        raise JwksUnavailable(f"{what} is not JSON") from None
    if not isinstance(document, dict):
        raise JwksUnavailable(f"{what} is not a JSON object")
    return document


def _shown(value: object) -> str:
    return repr(value)[:60]


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
        self._revoked = RevokedKids()
        self._etag: str | None = None
        self._fresh_until = 0.0
        self._usable_until = 0.0
        self._fetched_at: float | None = None
        self._last_attempt = float("-inf")
        self._in_flight: asyncio.Task[None] | None = None
        self._background: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._refetches: set[asyncio.Task[None]] = set()
        self._after_revocation = False

    # ------------------------------------------------------------ KeySource
    def get(self, kid: str) -> PreparedKey | None:
        if self._clock() > self._usable_until:
            return None
        return self._keys.get(kid)

    async def refresh_for_unknown_kid(self, kid: str) -> None:
        """At most once per ``unknown_kid_interval``, except the first unknown kid after a key
        revocation: the refetch the revocation started may have raced the issuer publishing the
        replacement key (its JWKS reloads just after the revocation commits)."""
        limited = self._clock() - self._last_attempt < self.unknown_kid_interval
        if limited and self._in_flight is None and not self._after_revocation:
            return
        self._after_revocation = False
        with contextlib.suppress(JwksUnavailable):
            await self.refresh()

    def is_ready(self) -> bool:
        return bool(self._keys) and self._clock() <= self._usable_until

    def revoke(self, kid: str) -> None:
        """Drop ``kid`` now and refuse it from every later fetch; refetch at once.

        Refused from later fetches because a stale copy of the set (a CDN, a proxy cache, the
        issuer's own ``max-age``) may still list the key for minutes; refetched because the issuer
        has just activated a replacement whose tokens are on their way. Repeating a kid (an event
        replayed after a reconnect) changes nothing and fetches nothing.
        """
        self._keys.pop(kid, None)
        if self._revoked.add(kid):
            log.warning("JWKS key %s revoked: refused from now on", _shown(kid))
            self._after_revocation = True
            self.refresh_soon()

    # ------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        """Start background refreshing; does not wait for the issuer (it may be down at start-up)."""
        if self._background is None:
            self._background = asyncio.create_task(self._refresh_forever(), name="jwks-refresh")

    async def close(self) -> None:
        tasks = [task for task in (self._background, self._in_flight, *self._refetches) if task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._background = self._in_flight = None
        if self._owns_http:
            await self._http.aclose()

    @property
    def refreshing(self) -> bool:
        """The background refresh is running (it stops only at ``close``)."""
        return self._background is not None and not self._background.done()

    @property
    def age_seconds(self) -> float | None:
        """Seconds since the key set was last confirmed by the issuer (for metrics)."""
        return None if self._fetched_at is None else self._clock() - self._fetched_at

    def refresh_soon(self) -> None:
        """Refetch now without waiting for it; safe from synchronous code, never raises.

        The background task is woken when it runs. Otherwise a task of its own fetches (its failure
        is logged, never raised); with no event loop running at all, the next unknown kid refetches
        without waiting for ``unknown_kid_interval``.
        """
        self._last_attempt = float("-inf")
        if self.refreshing:
            self._wake.set()
            return
        try:
            task = asyncio.get_running_loop().create_task(self._refresh_logged(), name="jwks-refetch")
        except RuntimeError:
            return
        self._refetches.add(task)
        task.add_done_callback(self._refetches.discard)

    async def _refresh_logged(self) -> None:
        try:
            await self.refresh()
        except Exception as exc:  # nobody awaits this task: what it raised would be lost
            log.warning("JWKS refetch failed; keeping cached keys: %s", exc)

    async def _refresh_forever(self) -> None:
        retry = _FIRST_RETRY
        while True:
            self._wake.clear()
            try:
                await self.refresh()
                retry = _FIRST_RETRY
                delay = max(self.min_max_age, (self._fresh_until - self._clock()) * 0.8)
            except JwksUnavailable as exc:
                log.warning("JWKS refresh failed; keeping cached keys: %s", exc)
                delay, retry = retry, min(retry * 2, _LAST_RETRY)
            except Exception:  # refresh() raises nothing else; if it ever does, the loop goes on
                log.exception("JWKS refresh failed unexpectedly; keeping cached keys")
                self._count("error")
                delay, retry = retry, min(retry * 2, _LAST_RETRY)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    # -------------------------------------------------------------- fetching
    async def refresh(self) -> None:
        """Fetch now; concurrent callers share one fetch. Raises ``JwksUnavailable`` only."""
        task = self._in_flight
        if task is None or task.done():
            task = self._in_flight = asyncio.create_task(self._fetch(), name="jwks-fetch")
            task.add_done_callback(self._fetch_done)
        await asyncio.shield(task)

    def _fetch_done(self, task: asyncio.Task[None]) -> None:
        if self._in_flight is task:
            self._in_flight = None
        if not task.cancelled():
            task.exception()  # retrieved here: every caller may have gone away meanwhile

    async def _fetch(self) -> None:
        self._last_attempt = self._clock()
        try:
            outcome = await self._fetch_keys()
        except JwksUnavailable:
            self._count("error")
            raise
        except httpx.HTTPError as exc:
            self._count("error")
            raise JwksUnavailable(f"{type(exc).__name__}: {exc}") from None
        except Exception as exc:  # e.g. httpx.InvalidURL from a jwks_uri: the caller survives it
            log.exception("JWKS fetch failed unexpectedly")
            self._count("error")
            raise JwksUnavailable(f"{type(exc).__name__}: {exc}") from exc
        self._count(outcome)

    async def _fetch_keys(self) -> str:
        url = self.jwks_url or await self._discover()
        headers = {"If-None-Match": self._etag} if self._etag and self._keys else {}
        response = await self._http.get(url, headers=headers)
        if response.status_code == 304:
            self._mark_fresh(response)
            return "not_modified"
        if response.status_code != 200:
            raise JwksUnavailable(f"JWKS answered {response.status_code}")
        entries = _json_object(response, "JWKS").get("keys")
        if not isinstance(entries, list):
            raise JwksUnavailable("JWKS has no keys array")
        keys = prepare_key_set(entries, refused=self._revoked)
        if not keys:
            raise JwksUnavailable("JWKS holds no usable signing key")
        self._keys = keys
        self._etag = response.headers.get("etag")
        self._mark_fresh(response)
        return "updated"

    async def _discover(self) -> str:
        for path in _METADATA_PATHS:
            response = await self._http.get(self.issuer + path)
            if response.status_code != 200:
                continue
            metadata = _json_object(response, "issuer metadata")
            issuer = metadata.get("issuer")
            if not isinstance(issuer, str) or issuer.rstrip("/") != self.issuer:
                raise JwksUnavailable("issuer metadata names another issuer")
            jwks_uri = metadata.get("jwks_uri")
            if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
                raise JwksUnavailable("issuer metadata has no jwks_uri")
            self.jwks_url = jwks_uri
            return jwks_uri
        raise JwksUnavailable("no issuer metadata found")

    def _mark_fresh(self, response: httpx.Response) -> None:
        match = _MAX_AGE.search(response.headers.get("cache-control", ""))
        max_age = min(float(match.group(1)), _LONGEST_MAX_AGE) if match else self.default_max_age
        now = self._clock()
        self._fresh_until = now + max(max_age, self.min_max_age)
        self._usable_until = self._fresh_until + self.stale_if_error
        self._fetched_at = now

    def _count(self, outcome: str) -> None:
        if self.on_fetch is None:
            return
        try:
            self.on_fetch(outcome)
        except Exception:  # a metrics hook must not turn a fetch into an error a token sees
            log.exception("JWKS on_fetch hook failed")

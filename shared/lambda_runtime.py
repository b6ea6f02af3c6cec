"""Running one of our ASGI apps as an AWS Lambda function (API Gateway HTTP API, payload 2.0).

Mangum turns each API Gateway event into one ASGI request for the same app the long-running
service serves (``create_app``): no route is implemented twice. Two things differ from a server:

- **Start-up once per execution environment.** Mangum's own lifespan support starts the app and
  shuts it down around *every* invocation (``LifespanCycle`` is entered per ``__call__``): the pool
  would be opened and closed, the keys loaded, for each request. So Mangum runs with
  ``lifespan="off"`` and ``LambdaApp`` drives the ASGI lifespan itself, on its own event loop, on
  the first invocation only, and keeps it open: the lifespan task stays pending on the loop, the
  pool and caches stay warm across invocations. There is no shutdown in Lambda (the environment is
  frozen, then discarded); ``close()`` runs it for tests and benchmarks.
- **No background.** Between invocations the process is frozen: a task that sleeps, polls or
  blocks on a socket does nothing, and wakes late during some later request. What a long-running
  process refreshes in the background is therefore done by ``before`` hooks at the start of an
  invocation, each cheap when nothing is due (``DueRefresh``), and what must leave the process at
  once by ``after`` hooks (the auth service publishes recorded revocations there).

Building is lazy (``LazyHandler``): the module-level ``handler`` Lambda calls builds from the
environment on its first call, so importing the module connects nothing and tests build their own
``LambdaApp`` from their own settings.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

from litestar import Litestar
from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES
from mangum.types import ASGI, Message, Scope

__all__ = [
    "TEXT_MIME_TYPES",
    "AfterHook",
    "DueRefresh",
    "Hook",
    "LambdaApp",
    "LazyHandler",
    "LifespanFailed",
    "aws_secret",
]

log = logging.getLogger(__name__)
# Mangum logs every request as "METHOD path status": a path carries personal data (a customer's
# CPF), and our own access log already names the route template. Its warnings and errors stay.
logging.getLogger("mangum.http").setLevel(logging.WARNING)
logging.getLogger("mangum.lifespan").setLevel(logging.WARNING)

TEXT_MIME_TYPES = [*DEFAULT_TEXT_MIME_TYPES, "+json"]
"""Bodies returned as text rather than base64: Mangum's list matches ``application/json`` only as a
substring, which ``application/problem+json`` and ``application/jwk-set+json`` do not contain."""

_LITESTAR_EMITTER = "litestar.events.emitter."
Hook = Callable[[], Awaitable[None]]
AfterHook = Callable[[Mapping[str, Any]], Awaitable[None]]
Event = dict[str, Any]


class LifespanFailed(RuntimeError):
    """The app's start-up failed: the invocation fails, and Lambda starts a new environment."""


class _Lifespan:
    """The app's ASGI lifespan, started once and then held open until ``stop``."""

    __slots__ = ("_app", "_inbox", "_shut", "_started", "_task")

    def __init__(self, app: ASGI) -> None:
        self._app = app
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        self._started: asyncio.Future[None] = loop.create_future()
        self._shut: asyncio.Future[None] = loop.create_future()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self._inbox.put_nowait({"type": "lifespan.startup"})
        self._task = asyncio.create_task(self._run(scope), name="lambda-lifespan")
        await asyncio.wait({self._task, self._started}, return_when=asyncio.FIRST_COMPLETED)
        if not self._started.done():
            error = self._task.exception() if not self._task.cancelled() else None
            raise LifespanFailed(f"the app ended during start-up: {error!r}")
        self._started.result()

    async def _run(self, scope: Scope) -> None:
        await self._app(scope, self._inbox.get, self._send)

    async def stop(self) -> None:
        if self._task is None or self._task.done():
            return
        self._inbox.put_nowait({"type": "lifespan.shutdown"})
        await asyncio.wait({self._task, self._shut}, return_when=asyncio.FIRST_COMPLETED)

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            self._started.set_result(None)
        elif kind == "lifespan.startup.failed":
            self._started.set_exception(LifespanFailed(str(message.get("message", ""))))
        elif kind.startswith("lifespan.shutdown") and not self._shut.done():
            self._shut.set_result(None)


class LambdaApp:
    """``handler(event, context)`` for one execution environment: one loop, one started app."""

    __slots__ = ("_adapter", "_after", "_app", "_before", "_lifespan", "_loop", "_on_start", "started_in")

    def __init__(
        self,
        app: Litestar,
        *,
        on_start: Sequence[Hook] = (),
        before: Sequence[Hook] = (),
        after: Sequence[AfterHook] = (),
    ) -> None:
        """``on_start`` runs once, after the app's own start-up (e.g. to stop its background loops);
        ``before`` at the start of every invocation; ``after(event)`` once the response is ready."""
        self._app = cast(ASGI, app)  # Litestar's scope types are narrower than Mangum's protocol
        self._on_start, self._before, self._after = tuple(on_start), tuple(before), tuple(after)
        self._loop = asyncio.new_event_loop()
        self._adapter: Mangum | None = None
        self._lifespan: _Lifespan | None = None
        self.started_in: float | None = None
        """Seconds the first invocation spent starting the app (its connections and loads)."""

    @property
    def asgi_app(self) -> ASGI:
        """The app it serves (a benchmark calls it directly, to compare)."""
        return self._app

    def __call__(self, event: Event, context: Any) -> dict[str, Any]:
        asyncio.set_event_loop(self._loop)  # Mangum runs the request on the thread's current loop
        self._loop.run_until_complete(self._prepare())
        assert self._adapter is not None
        response = self._adapter(event, context)
        self._loop.run_until_complete(self._finish(event))
        return response

    async def _prepare(self) -> None:
        if self._lifespan is None:
            began = time.perf_counter()
            self._adapter = Mangum(self._app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)
            lifespan = _Lifespan(self._app)
            await lifespan.start()
            self._lifespan = lifespan
            for hook in self._on_start:
                await hook()
            self.started_in = time.perf_counter() - began
        for hook in self._before:
            await hook()

    async def _finish(self, event: Event) -> None:
        for hook in self._after:
            try:
                await hook(event)
            except Exception:  # the response is made: a failed follow-up must not turn it into a 502
                log.exception("a post-invocation step failed")

    def background_tasks(self) -> set[asyncio.Task[Any]]:
        """Tasks still on the loop between invocations besides the held lifespan and Litestar's
        event-emitter worker (idle until a request emits an event): there should be none, since
        nothing would run them while the environment is frozen."""
        lifespan = self._lifespan._task if self._lifespan is not None else None
        return {
            task
            for task in asyncio.all_tasks(self._loop)
            if task is not lifespan and not task.done() and not task.get_name().startswith(_LITESTAR_EMITTER)
        }

    def run(self, work: Awaitable[Any]) -> Any:
        """Run ``work`` on this environment's loop between invocations (tests seed through it)."""
        asyncio.set_event_loop(self._loop)
        return self._loop.run_until_complete(work)

    def close(self) -> None:
        """Run the app's shutdown (Lambda never does; tests and benchmarks must)."""
        if self._lifespan is not None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._lifespan.stop())
            self._lifespan = None
        self._loop.close()


class LazyHandler:
    """The module-level ``handler``: builds its ``LambdaApp`` on the first call (from the
    environment), so an import connects nothing and a bad setting fails the first invocation with
    one logged line."""

    __slots__ = ("_build", "_built", "built_in")

    def __init__(self, build: Callable[[], LambdaApp]) -> None:
        self._build = build
        self._built: LambdaApp | None = None
        self.built_in: float | None = None
        """Seconds building took (settings, object graph, routes; no I/O), once built."""

    @property
    def built(self) -> LambdaApp | None:
        return self._built

    def __call__(self, event: Event, context: Any) -> dict[str, Any]:
        if self._built is None:
            began = time.perf_counter()
            self._built = self._build()
            self.built_in = time.perf_counter() - began
        return self._built(event, context)


class DueRefresh:
    """``refresh`` at most once per ``interval`` seconds, when an invocation starts: the Lambda
    stand-in for a background refresh every ``interval``. A failure is logged and waits for the
    next interval, as a background round's would."""

    __slots__ = ("_clock", "_interval", "_last", "_refresh", "_what")

    def __init__(
        self, what: str, refresh: Hook, *, interval: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._what, self._refresh, self._interval, self._clock = what, refresh, interval, clock
        self._last = clock()
        """Start-up has just loaded it: the first refresh is one interval later."""

    async def __call__(self) -> None:
        now = self._clock()
        if now - self._last < self._interval:
            return
        self._last = now
        try:
            await self._refresh()
        except Exception as exc:
            log.warning("%s not refreshed: %s", self._what, exc)


def aws_secret(secret_id: str) -> str:
    """The text of a Secrets Manager secret (an ARN) or an SSM SecureString parameter (``/name``).

    boto3 comes with Lambda's Python runtime, so it is imported here, only when a secret is named,
    and is in no requirements file (nor in the deployment zips).
    """
    boto3: Any = importlib.import_module("boto3")
    if secret_id.startswith("arn:") and ":secretsmanager:" in secret_id:
        value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    else:
        response = boto3.client("ssm").get_parameter(Name=secret_id, WithDecryption=True)
        value = response["Parameter"]["Value"]
    return str(value).strip()

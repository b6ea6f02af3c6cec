"""The Lambda entry points under test: each in a ``LambdaEnvironment`` (a thread of its own, as
Lambda's runtime), on this run's PostgreSQL and Redis, torn down (shutdown run) after the test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shared.lambda_runtime import LambdaApp
from tests.serverless.lambda_events import LambdaEnvironment

EnvironmentFactory = Callable[[Callable[[], LambdaApp]], LambdaEnvironment]


@pytest.fixture
def environments() -> Iterator[EnvironmentFactory]:
    """``start(build)``: an environment whose handler ``build()`` makes inside it (where Lambda
    would: the loop and the adapter belong to the runtime's thread)."""
    started: list[tuple[LambdaEnvironment, LambdaApp]] = []

    def start(build: Callable[[], LambdaApp]) -> LambdaEnvironment:
        holder: dict[str, Any] = {}
        environment = LambdaEnvironment(lambda event, context: holder["app"](event, context))
        holder["app"] = environment.app = app = environment.run(build)
        started.append((environment, app))
        return environment

    yield start
    for environment, app in reversed(started):
        environment.close(app.close)


@pytest.fixture
def stream_prefix(redis_namespace: str) -> str:
    return f"{redis_namespace}:lambda-{uuid.uuid4().hex[:8]}:"

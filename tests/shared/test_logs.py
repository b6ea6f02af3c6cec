"""Log lines as an operator's log pipeline reads them: one JSON object per line."""

from __future__ import annotations

import json
import logging
import re
import sys

import pytest
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import TestClient

from shared.http.observation import observe_requests
from shared.logs import JsonFormatter, request_id_var


def _record(msg: str, *args: object, created: float | None = None, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("access", logging.INFO, __file__, 1, msg, args, None)
    if created is not None:
        record.created = created
        record.msecs = (created - int(created)) * 1000
    record.__dict__.update(extra)
    return record


def test_a_line_is_one_json_object_with_the_extras_and_the_request_id() -> None:
    token = request_id_var.set("req-12345678")
    try:
        line = JsonFormatter().format(
            _record("%s %s %d", "GET", "/customers/São", 200, status=200, duration_ms=1.25, odd=object())
        )
    finally:
        request_id_var.reset(token)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["msg"] == "GET /customers/São 200"
    assert entry["level"] == "info"
    assert entry["logger"] == "access"
    assert entry["request_id"] == "req-12345678"
    assert entry["status"] == 200
    assert entry["duration_ms"] == 1.25
    assert entry["odd"].startswith("<object object")  # what cannot be JSON is written as text
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["ts"])


def test_timestamps_are_utc_to_the_millisecond_across_seconds() -> None:
    formatter = JsonFormatter()
    # 2026-11-26T04:00:59.999Z, then the next second: the per-second cache must move on.
    first = json.loads(formatter.format(_record("a", created=1795665659.9995)))
    second = json.loads(formatter.format(_record("b", created=1795665660.25)))
    assert first["ts"] == "2026-11-26T04:00:59.999Z"
    assert second["ts"] == "2026-11-26T04:01:00.250Z"


def test_a_stack_trace_stays_inside_the_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("app", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "ValueError: boom" in json.loads(line)["exc"]


@get("/healthz", sync_to_thread=False)
def healthz() -> str:
    return "ok"


@get("/items/{item_id:int}", sync_to_thread=False)
def item(item_id: FromPath[int]) -> dict[str, int]:
    return {"id": item_id}


def test_one_access_line_per_request_except_probes(caplog: pytest.LogCaptureFixture) -> None:
    app = Litestar([healthz, item], logging_config=None)
    observe_requests(app)
    with caplog.at_level(logging.INFO, logger="access"), TestClient(app) as client:
        answer = client.get("/items/3", headers={"x-request-id": "caller-id-42"})
        client.get("/healthz")
        client.get("/no/such/path")
    lines = [record for record in caplog.records if record.name == "access"]
    # The route template, never the raw path; a request no route matched: the fixed placeholder.
    assert [line.getMessage() for line in lines] == ["GET /items/{item_id} 200", "GET unmatched 404"]
    first = lines[0].__dict__
    assert (first["method"], first["route"], first["status"]) == ("GET", "/items/{item_id}", 200)
    assert "path" not in first
    assert isinstance(first["duration_ms"], float)
    assert answer.headers["x-request-id"] == "caller-id-42"

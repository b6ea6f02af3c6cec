"""Tracing: nothing without an endpoint; with one, spans reach a real OTLP/HTTP receiver."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from shared.http.observation import observe_requests
from shared.logs import JsonFormatter
from shared.tracing import request_tracing, tracing_configured

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@get("/items/{item_id:int}", sync_to_thread=False)
def item(item_id: FromPath[int]) -> dict[str, int]:
    logging.getLogger("test.handler").info("looking at item")
    return {"id": item_id}


@get("/boom", sync_to_thread=False)
def boom() -> None:
    raise RuntimeError("handler bug")


class Receiver(ThreadingHTTPServer):
    """An OTLP/HTTP trace receiver on loopback: keeps every export request it gets."""

    def __init__(self) -> None:
        self.exports: list[ExportTraceServiceRequest] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler) -> None:
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                self.exports.append(request)
                handler.send_response(200)
                handler.send_header("Content-Type", "application/x-protobuf")
                handler.send_header("Content-Length", "0")
                handler.end_headers()

            def log_message(handler, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_off_without_an_endpoint_and_imports_nothing() -> None:
    assert not tracing_configured({})
    assert not tracing_configured(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}
    )
    assert tracing_configured({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"})
    program = (
        "import sys; from shared.tracing import request_tracing\n"
        "assert request_tracing('x', {}) is None\n"
        "loaded = [m for m in sys.modules if m.startswith(('opentelemetry.sdk', 'opentelemetry.exporter'))]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", program], check=True)


def test_spans_continue_the_callers_trace_and_name_the_route(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)  # the exporter reads it, as in production
    app = Litestar([item, boom], logging_config=None)
    tracing = request_tracing("test-service", {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url})
    assert tracing is not None
    observe_requests(app, tracing=tracing)
    provider = tracing.provider
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous_level = root.level
    root.setLevel(logging.INFO)
    try:
        with TestClient(app) as client:
            assert client.get("/items/7", headers={"traceparent": TRACEPARENT}).status_code == 200
            assert client.get("/boom").status_code == 500
            assert client.get("/no/52998224725").status_code == 404
        provider.force_flush()
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
        provider.shutdown()

    spans = [
        (resource_spans.resource, span)
        for export in receiver.exports
        for resource_spans in export.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]
    by_name = {span.name: (resource, span) for resource, span in spans}
    assert set(by_name) == {"GET /items/{item_id}", "GET /boom", "GET"}  # GET: no route matched
    resource, span = by_name["GET /items/{item_id}"]
    assert span.trace_id.hex() == TRACE_ID
    assert span.parent_span_id.hex() == "00f067aa0ba902b7"
    attributes = {a.key: a.value for a in span.attributes}
    assert attributes["http.route"].string_value == "/items/{item_id}"
    assert attributes["http.response.status_code"].int_value == 200
    service = {a.key: a.value.string_value for a in resource.attributes}["service.name"]
    assert service == "test-service"
    _, failed = by_name["GET /boom"]
    assert failed.status.code == 2  # STATUS_CODE_ERROR
    assert failed.trace_id.hex() != TRACE_ID
    # The raw path is client text (a CPF, say): no span attribute holds it, routed or not.
    values = [str(a.value) for _, span in spans for a in span.attributes]
    assert not [v for v in values if "/items/7" in v or "52998224725" in v]
    assert "http.route" not in {a.key for a in by_name["GET"][1].attributes}

    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    handler_line = next(r for r in records if r["msg"] == "looking at item")
    access_line = next(r for r in records if r["logger"] == "access" and r.get("route") == "/items/{item_id}")
    assert handler_line["trace_id"] == access_line["trace_id"] == TRACE_ID

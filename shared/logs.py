"""Structured logs: one JSON object per line in production, readable text in a terminal.

The request id of the request being served (``request_id_var``) is added to every record, so a
500's ``X-Request-ID`` finds its stack trace in the logs. Never pass passwords, tokens or secrets
to a logger: nothing here can recognise and strip them.
"""

from __future__ import annotations

import logging
import sys
import time
from contextvars import ContextVar
from typing import Any

import msgspec

__all__ = ["JsonFormatter", "configure_logging", "request_id_var", "trace_id_var"]

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
trace_id_var: ContextVar[str | None] = ContextVar("trace_id", default=None)
"""Set by ``shared.tracing`` while a traced request runs, so its log lines name the trace."""

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; it runs once per request (the access log), so it is kept cheap:
    msgspec encodes, and the date part of the timestamp is formatted once per second."""

    def __init__(self) -> None:
        super().__init__()
        self._encoder = msgspec.json.Encoder(enc_hook=str)
        self._second = -1
        self._second_text = ""

    def _timestamp(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._second_text}.{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self._timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        trace_id = trace_id_var.get()
        if trace_id is not None:
            entry["trace_id"] = trace_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return self._encoder.encode(entry).decode()


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{k}={v}"
            for k, v in record.__dict__.items()
            if k not in _STANDARD_ATTRS and not k.startswith("_")
        )
        line = (
            f"{time.strftime('%H:%M:%S', time.localtime(record.created))} {record.levelname:<7} "
            f"{record.name}: {record.getMessage()}"
        )
        if extras:
            line = f"{line} {extras}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def configure_logging(level: str, log_format: str = "auto") -> None:
    """Route every logger (ours, uvicorn's, asyncpg's) to one stderr handler.

    ``log_format`` is ``json``, ``text`` or ``auto`` (text when stderr is a terminal).
    """
    use_text = log_format == "text" or (log_format == "auto" and sys.stderr.isatty())
    # Neither format prints thread or process names; not collecting them makes every record
    # cheaper (the logging HOWTO's "Optimization"), and the access log writes one per request.
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging._srcfile = None  # nor the caller's file and line: no stack walk per record
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_TextFormatter() if use_text else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True

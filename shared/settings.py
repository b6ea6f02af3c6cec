"""Settings as msgspec Structs read from environment variables.

Each service declares one Struct whose field names, upper-cased behind a prefix, are the
environment variables (``AUTH_PORT`` for field ``port`` of the auth service). Reading is explicit
(``load_settings(AuthSettings, "AUTH_")``), never done at import time, so tests build settings
objects directly or from a dict of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

__all__ = ["SettingsError", "env_name", "load_settings"]

S = TypeVar("S", bound=msgspec.Struct)


class SettingsError(ValueError):
    """A setting is missing or invalid; the message is one line naming the variable."""


def env_name(prefix: str, field: str) -> str:
    return f"{prefix}{field.upper()}"


def load_settings(cls: type[S], prefix: str, environ: Mapping[str, str]) -> S:
    """Build ``cls`` from ``environ``; unset variables keep the Struct's documented defaults.

    Values are strings in the environment; msgspec converts them (``strict=False``) to the field
    types, so ``"8000"`` becomes ``8000`` and ``"true"`` becomes ``True``. The first invalid value
    raises ``SettingsError`` with the variable's name, the value's problem and nothing else.
    """
    raw: dict[str, Any] = {}
    for field in msgspec.structs.fields(cls):
        name = env_name(prefix, field.name)
        if name in environ:
            raw[field.name] = _parse_value(environ[name], field.type)
    try:
        return msgspec.convert(raw, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_one_line(str(exc), prefix)) from None


def _parse_value(value: str, annotation: Any) -> Any:
    """Lists and tuples are written space- or comma-separated in the environment."""
    origin = getattr(annotation, "__origin__", None)
    if origin in (list, tuple, frozenset, set):
        return [part for part in value.replace(",", " ").split() if part]
    return value


def _one_line(message: str, prefix: str) -> str:
    """Turn msgspec's ``... - at `$.port` `` into ``AUTH_PORT: ...``."""
    text, sep, path = message.rpartition(" - at `$.")
    if not sep:
        return f"invalid settings: {message}"
    field = path.rstrip("`").split("[", 1)[0].split(".", 1)[0]
    return f"{env_name(prefix, field)}: {text}"

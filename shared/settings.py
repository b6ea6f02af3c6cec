"""Settings as msgspec Structs read from environment variables.

Each service declares one Struct of concerns (``tokens``, ``keys``, ``passwords``...), each concern
a Struct of its own, so every component is handed only its part. The environment stays flat: a
leaf field's name, upper-cased behind the service's prefix, is its variable (``AUTH_PORT`` for
field ``port``, wherever it is nested), so leaf names are unique within a service. Reading is
explicit (``load_settings(AuthSettings, "AUTH_", os.environ)``), never done at import time, and
tests build settings from flat field values with ``settings_from_values``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import msgspec

__all__ = ["SettingsError", "env_name", "leaf_fields", "load_settings", "settings_from_values"]

S = TypeVar("S", bound=msgspec.Struct)


class SettingsError(ValueError):
    """A setting is missing or invalid; the message is one line naming the variable."""


def env_name(prefix: str, field: str) -> str:
    return f"{prefix}{field.upper()}"


def _nested_struct(annotation: Any) -> type[msgspec.Struct] | None:
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    return None


def leaf_fields(
    cls: type[msgspec.Struct],
) -> Iterator[tuple[type[msgspec.Struct], msgspec.structs.FieldInfo]]:
    """Every settable field, depth first in declaration order, with the Struct that declares it."""
    for field in msgspec.structs.fields(cls):
        nested = _nested_struct(field.type)
        if nested is None:
            yield cls, field
        else:
            yield from leaf_fields(nested)


def _nest(cls: type[msgspec.Struct], flat: dict[str, Any]) -> dict[str, Any]:
    """Distribute flat leaf values (consumed from ``flat``) into the shape of ``cls``."""
    raw: dict[str, Any] = {}
    for field in msgspec.structs.fields(cls):
        nested = _nested_struct(field.type)
        if nested is None:
            if field.name in flat:
                raw[field.name] = flat.pop(field.name)
        else:
            raw[field.name] = _nest(nested, flat)
    return raw


def settings_from_values(cls: type[S], values: Mapping[str, Any], prefix: str = "") -> S:
    """Build ``cls`` from flat leaf values (``{"port": 8000, "access_token_ttl": 60}``).

    Unknown names raise ``SettingsError``, so a misspelt setting in a test cannot go unnoticed;
    strings convert to the field types as they do from the environment.
    """
    flat = dict(values)
    raw = _nest(cls, flat)
    if flat:
        raise SettingsError(f"unknown settings: {', '.join(sorted(flat))}")
    try:
        return msgspec.convert(raw, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_one_line(str(exc), prefix, cls)) from None


def load_settings(cls: type[S], prefix: str, environ: Mapping[str, str]) -> S:
    """Build ``cls`` from ``environ``; unset variables keep the Structs' documented defaults.

    Values are strings in the environment; msgspec converts them (``strict=False``) to the field
    types, so ``"8000"`` becomes ``8000`` and ``"true"`` becomes ``True``. The first invalid value
    raises ``SettingsError`` with the variable's name, the value's problem and nothing else.
    """
    flat: dict[str, Any] = {}
    for _, field in leaf_fields(cls):
        name = env_name(prefix, field.name)
        if name in environ:
            flat[field.name] = _parse_value(environ[name], field.type)
    return settings_from_values(cls, flat, prefix)


def _parse_value(value: str, annotation: Any) -> Any:
    """Lists and tuples are written space- or comma-separated in the environment."""
    origin = getattr(annotation, "__origin__", None)
    if origin in (list, tuple, frozenset, set):
        return [part for part in value.replace(",", " ").split() if part]
    return value


def _one_line(message: str, prefix: str, cls: type[msgspec.Struct]) -> str:
    """Turn msgspec's ``... - at `$.http.port` `` into ``AUTH_PORT: ...``.

    A path ending at a concern (a check across its fields failed in ``__post_init__``) has no one
    variable to name: such messages name their variables themselves.
    """
    text, sep, path = message.rpartition(" - at `$.")
    if not sep:
        return f"invalid settings: {message}"
    current: type[msgspec.Struct] | None = cls
    leaf: str | None = None
    for part in path.rstrip("`").split("."):
        name = part.split("[", 1)[0]
        if current is None:
            break
        field = next((f for f in msgspec.structs.fields(current) if f.name == name), None)
        if field is None:
            break
        current = _nested_struct(field.type)
        leaf = name if current is None else None
    if leaf is None:
        return f"invalid settings: {text}"
    return f"{env_name(prefix, leaf)}: {text}"

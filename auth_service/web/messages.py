"""The pages' words: one flat catalog per language, merged from ``messages/<locale>/<area>.json``.

Each page's owner writes its own ``<area>.json`` (``login.json``, ``device.json``...) in every
language, keys prefixed by the area (``login.title``). All files of a language are merged at
start; a key defined in two files is an error then, not a silent override found in production.
A message may name parameters (``"Continue to {client}"``) filled by ``t(key, client=...)``;
the template escapes the result like any other value (autoescape), parameters included.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from auth_service.web.locale import LOCALES

__all__ = ["MESSAGES_DIR", "Catalogs", "MessageCatalogError", "Translator"]

MESSAGES_DIR: Final = Path(__file__).parent / "messages"


class MessageCatalogError(ValueError):
    """A catalog file is not a flat JSON object of strings, or a key is defined twice."""


class Translator:
    """``t`` in every template: ``t("login.title")``, ``t("login.continue", client=name)``.
    An unknown key raises (a page's test shows the typo), so no page ever shows a raw key."""

    __slots__ = ("locale", "messages")

    def __init__(self, locale: str, messages: Mapping[str, str]) -> None:
        self.locale = locale
        self.messages = messages

    def __call__(self, key: str, /, **params: object) -> str:
        text = self.messages[key]
        return text.format_map(params) if params else text

    def has(self, key: str) -> bool:
        return key in self.messages


def _load_file(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MessageCatalogError(f"{path}: {exc}") from None
    if not isinstance(data, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in data.items()
    ):
        raise MessageCatalogError(f"{path}: must be a flat JSON object of strings")
    return data


def _load_locale(folder: Path) -> dict[str, str]:
    merged: dict[str, str] = {}
    origin: dict[str, Path] = {}
    for path in sorted(folder.glob("*.json")):
        for key, text in _load_file(path).items():
            if key in merged:
                raise MessageCatalogError(f"{key!r} is defined in both {origin[key].name} and {path.name}")
            merged[key] = text
            origin[key] = path
    return merged


class Catalogs:
    """Every language's merged catalog, loaded once (``Catalogs.load()``), and its ``Translator``."""

    __slots__ = ("_translators",)

    def __init__(self, catalogs: Mapping[str, Mapping[str, str]]) -> None:
        self._translators = {locale: Translator(locale, messages) for locale, messages in catalogs.items()}

    @classmethod
    def load(cls, directory: Path = MESSAGES_DIR) -> Catalogs:
        return cls({locale: _load_locale(directory / locale) for locale in LOCALES})

    def translator(self, locale: str) -> Translator:
        return self._translators[locale]

    def has(self, key: str) -> bool:
        """Whether ``key`` exists (every language has the same keys: a test checks)."""
        return all(translator.has(key) for translator in self._translators.values())

    def keys(self, locale: str) -> set[str]:
        return set(self._translators[locale].messages)

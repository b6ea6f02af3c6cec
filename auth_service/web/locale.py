"""Which of our languages a page speaks: ``ui_locales`` (OIDC Core §3.1.2.1) first, then the
browser's ``Accept-Language`` (RFC 9110 §12.5.4, q-values honoured), then the configured default.

Matching is by language, not only by exact tag: we have one Portuguese (``pt-BR``), so ``pt``,
``pt-PT`` and ``pt-br`` all get it, and any English gets ``en``. A tag we cannot serve is skipped,
never an error: ``ui_locales`` is a preference, and the default always exists.
"""

from __future__ import annotations

from typing import Final

__all__ = ["LOCALES", "choose_locale"]

LOCALES: Final = ("en", "pt-BR")
"""The languages every page exists in (each has a full message catalog)."""

_BY_LANGUAGE: Final = {locale.split("-", 1)[0].lower(): locale for locale in LOCALES}
_MAX_TAGS: Final = 20
"""Tags looked at per header: a client sending hundreds gets the default sooner, not a slow page."""


def _match(tag: str) -> str | None:
    """Ours for one BCP 47 tag: exact (case-insensitive), else by its primary language subtag."""
    tag = tag.strip().lower()
    for locale in LOCALES:
        if tag == locale.lower():
            return locale
    return _BY_LANGUAGE.get(tag.split("-", 1)[0])


def _weighted(accept_language: str) -> list[str]:
    """The header's tags by decreasing q (stable for equal q); ``q=0`` means "not this one"."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")[:_MAX_TAGS]):
        tag, _, params = item.partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and tag.strip() and tag.strip() != "*":
            ranked.append((-quality, position, tag))
    return [tag for _, _, tag in sorted(ranked)]


def choose_locale(ui_locales: str | None, accept_language: str | None, default: str) -> str:
    """The first of ``ui_locales`` (space-separated, in preference order) we have, else the best of
    ``Accept-Language`` we have, else ``default``."""
    for tag in (ui_locales or "").split()[:_MAX_TAGS]:
        if found := _match(tag):
            return found
    for tag in _weighted(accept_language or ""):
        if found := _match(tag):
            return found
    return default

"""Which language a page speaks: ui_locales, then Accept-Language (q-values), then the default."""

from __future__ import annotations

import pytest

from auth_service.web.locale import LOCALES, choose_locale


def test_the_two_languages() -> None:
    assert LOCALES == ("en", "pt-BR")


@pytest.mark.parametrize(
    ("ui_locales", "accept_language", "default", "expected"),
    [
        ("pt-BR", "en-US,en;q=0.9", "en", "pt-BR"),  # ui_locales beats Accept-Language
        ("fr-CA pt", "en", "en", "pt-BR"),  # the first of ui_locales we have
        ("fr de", "pt-BR", "en", "pt-BR"),  # none of ui_locales: the header decides
        (None, "fr;q=1, en;q=0.5, pt-BR;q=0.8", "en", "pt-BR"),  # q-values, not order
        (None, "en;q=0.5, pt;q=0.5", "pt-BR", "en"),  # equal q: the header's order
        (None, "pt-BR;q=0, en", "pt-BR", "en"),  # q=0 means "not this one"
        (None, "pt", "en", "pt-BR"),
        (None, "pt-PT", "en", "pt-BR"),
        (None, "PT-br", "en", "pt-BR"),
        (None, "en-GB", "pt-BR", "en"),
        (None, "fr, de;q=0.9, *;q=0.1", "pt-BR", "pt-BR"),  # unknown: the default
        (None, None, "pt-BR", "pt-BR"),
        ("", "", "en", "en"),
        (None, "en;q=abc, pt-BR", "en", "pt-BR"),  # a malformed q drops its tag only
        (None, ";;;,,,=", "en", "en"),
    ],
)
def test_choose_locale(
    ui_locales: str | None, accept_language: str | None, default: str, expected: str
) -> None:
    assert choose_locale(ui_locales, accept_language, default) == expected


def test_a_huge_header_is_cut_short() -> None:
    header = ", ".join(["fr"] * 5000 + ["pt-BR"])
    assert choose_locale(None, header, "en") == "en"

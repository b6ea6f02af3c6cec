"""The message catalogs: both languages complete, no key defined twice, no malformed file."""

from __future__ import annotations

from pathlib import Path

import pytest

from auth_service.web.locale import LOCALES
from auth_service.web.messages import MESSAGES_DIR, Catalogs, MessageCatalogError


def test_every_language_has_the_same_keys() -> None:
    catalogs = Catalogs.load()
    english = catalogs.keys("en")
    assert "error.csrf.title" in english
    for locale in LOCALES:
        assert catalogs.keys(locale) == english, locale


def test_every_area_file_exists_in_every_language() -> None:
    areas = {locale: sorted(p.name for p in (MESSAGES_DIR / locale).glob("*.json")) for locale in LOCALES}
    assert areas["en"] == areas["pt-BR"]


def test_the_translations_differ_from_english() -> None:
    """A copied file would pass the key check while leaving the page in English."""
    catalogs = Catalogs.load()
    english, portuguese = catalogs.translator("en"), catalogs.translator("pt-BR")
    assert english("error.csrf.title") != portuguese("error.csrf.title")
    assert portuguese("error.retry_after", seconds=5) == "Tente novamente em 5 segundos."


def _catalog(tmp_path: Path, files: dict[str, str]) -> Path:
    for locale in LOCALES:
        (tmp_path / locale).mkdir()
        for name, text in files.items():
            (tmp_path / locale / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_a_key_defined_in_two_files_is_refused(tmp_path: Path) -> None:
    root = _catalog(tmp_path, {"a.json": '{"x.title": "A"}', "b.json": '{"x.title": "B"}'})
    with pytest.raises(MessageCatalogError, match=r"'x.title' is defined in both a.json and b.json"):
        Catalogs.load(root)


@pytest.mark.parametrize("text", ['["a"]', '{"a": {"nested": "x"}}', '{"a": 1}', "{not json"])
def test_a_malformed_file_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(MessageCatalogError, match=r"bad\.json"):
        Catalogs.load(_catalog(tmp_path, {"bad.json": text}))


def test_an_unknown_key_raises() -> None:
    with pytest.raises(KeyError):
        Catalogs.load().translator("en")("no.such.key")

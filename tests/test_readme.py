"""The README documents what the code does: every setting, generated from the settings Structs."""

from __future__ import annotations

from shared.settings_doc import BEGIN, END, render_tables
from tests.conftest import ROOT


def test_settings_tables_are_current() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip()
    assert documented == render_tables().strip(), "run `make docs` to regenerate the settings tables"

"""The README documents what the code does: every setting, generated from the settings Structs."""

from __future__ import annotations

from devstack.settings_tables import BEGIN, END, render_tables
from tests.conftest import ROOT


def _documented() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip()


def test_every_setting_is_documented_as_declared() -> None:
    """Rows first, whatever their order, so a missing or stale setting is named in the failure."""
    documented, generated = set(_documented().splitlines()), set(render_tables().splitlines())
    assert sorted(generated - documented) == [], "run `make docs`: these rows are new or changed"
    assert sorted(documented - generated) == [], "run `make docs`: these rows are gone from the code"


def test_settings_tables_are_current() -> None:
    assert _documented() == render_tables().strip(), "run `make docs` to regenerate the settings tables"

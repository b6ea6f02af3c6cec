"""No template may hold inline script or style: the CSP forbids them, and would break the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auth_service.web.pages import TEMPLATES_DIR

FORBIDDEN = {
    "a <script> with a body (only <script src=...></script> is allowed)": re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|<script[^>]*>\s*\S+?\s*</script>", re.IGNORECASE
    ),
    "a <style> element": re.compile(r"<style\b", re.IGNORECASE),
    "a style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "an event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "a javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "autoescape switched off": re.compile(r"autoescape\s+false|\|\s*safe\b", re.IGNORECASE),
}

TEMPLATES = sorted(TEMPLATES_DIR.rglob("*.html"))


def offences(text: str) -> list[str]:
    return [name for name, pattern in FORBIDDEN.items() if pattern.search(text)]


def test_the_scan_finds_what_it_looks_for() -> None:
    """Each pattern catches its offence, so a clean scan below means something."""
    assert offences("<script>alert(1)</script>") == [next(iter(FORBIDDEN))]
    assert offences('<script src="/static/a.js">alert(1)</script>') == [next(iter(FORBIDDEN))]
    assert offences("<style>p{}</style>")
    assert offences('<p style="color:red">')
    assert offences('<button onclick="x()">')
    assert offences('<a href="javascript:x()">')
    assert offences("{{ value|safe }}")
    assert offences('<script src="/static/form_post.js" defer></script>') == []


def test_there_are_templates() -> None:
    assert {"base.html", "error.html"} <= {path.name for path in TEMPLATES}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(TEMPLATES_DIR)))
def test_no_inline_script_or_style(template: Path) -> None:
    assert offences(template.read_text(encoding="utf-8")) == []

"""``brand.css``: the configured colour as CSS custom properties, with readable companions.

An operator picks one primary colour. Buttons need a text colour on it and links need it on white,
both at WCAG's 4.5:1; rather than trusting the pick, the text colour is whichever of white and
near-black contrasts more, and the link colour is the primary darkened until it reaches 4.5:1.
"""

from __future__ import annotations

__all__ = ["brand_css", "contrast"]

_DARK = "#111111"
_WHITE = "#ffffff"


def _channels(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _luminance(colour: str) -> float:
    """WCAG 2 relative luminance."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _channels(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two ``#RRGGBB`` colours (1 to 21)."""
    high, low = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _darkened(colour: str, factor: float) -> str:
    return "#" + "".join(f"{int(c * factor):02x}" for c in _channels(colour))


def _readable_on_white(colour: str) -> str:
    factor = 1.0
    while contrast(_darkened(colour, factor), _WHITE) < 4.5 and factor > 0:
        factor -= 0.05
    return _darkened(colour, max(factor, 0.0))


def brand_css(primary: str) -> str:
    primary = primary.lower()
    on_primary = _WHITE if contrast(primary, _WHITE) >= contrast(primary, _DARK) else _DARK
    return (
        "/* Generated from AUTH_PRIMARY_COLOR. */\n"
        ":root {\n"
        f"  --brand-primary: {primary};\n"
        f"  --brand-on-primary: {on_primary};\n"
        f"  --brand-link: {_readable_on_white(primary)};\n"
        f"  --brand-primary-hover: {_darkened(primary, 0.85)};\n"
        "}\n"
    )

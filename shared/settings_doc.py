"""The README's settings tables, generated from the settings Structs and their field docstrings.

``python -m shared.settings_doc`` rewrites the part of README.md between the settings markers; a
test fails when the README and the code disagree, so a new setting cannot go undocumented.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import sys
from pathlib import Path

import msgspec

__all__ = ["render_tables", "update_readme"]

BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"


def _field_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings: the string literal right after each annotated field."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, following in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
        ):
            docs[node.target.id] = " ".join(str(following.value.value).split())
    return docs


def _default(field: msgspec.structs.FieldInfo) -> str:
    value = field.default if field.default is not msgspec.NODEFAULT else None
    if field.default_factory is not msgspec.NODEFAULT:
        value = field.default_factory()
    if value in (None, ""):
        return "(empty)"
    if isinstance(value, list | tuple | frozenset):
        return "`" + " ".join(map(str, value)) + "`" if value else "(empty)"
    return f"`{value}`"


def render_table(title: str, cls: type[msgspec.Struct], prefix: str) -> str:
    docs = _field_docs(cls)
    rows = [f"### {title}", "", "| variable | default | meaning |", "|---|---|---|"]
    for field in msgspec.structs.fields(cls):
        meaning = docs.get(field.name, "").replace("|", "\\|")
        rows.append(f"| `{prefix}{field.name.upper()}` | {_default(field)} | {meaning} |")
    return "\n".join(rows)


def render_tables() -> str:
    from auth_service.settings import ENV_PREFIX as AUTH_PREFIX
    from auth_service.settings import AuthSettings
    from customer_service.settings import ENV_PREFIX as CUSTOMER_PREFIX
    from customer_service.settings import CustomerSettings

    return "\n\n".join(
        [
            render_table("Auth service (`AUTH_*`)", AuthSettings, AUTH_PREFIX),
            render_table("Customer service (`CUSTOMER_*`)", CustomerSettings, CUSTOMER_PREFIX),
        ]
    )


def update_readme(readme: Path) -> bool:
    """Rewrite the generated part; return True when it changed."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    new = text[:start] + "\n" + render_tables() + "\n" + text[end:]
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    changed = update_readme(Path(__file__).resolve().parents[1] / "README.md")
    print("README.md settings tables " + ("updated" if changed else "already current"))
    sys.exit(0)

"""The README's settings tables, generated from the services' settings Structs and field docstrings.

``python -m devstack.settings_tables`` (``make docs``) rewrites the part of README.md between the
settings markers; a test fails when the README and the code disagree, so a new setting cannot go
undocumented. It lives in ``devstack/`` because it knows both services, which ``shared/`` must not.

Settings may be nested per concern (``AuthSettings.tokens.access_token_ttl``): the environment is
flat, so each service still gets one table, a row per leaf field in declaration order (depth
first), each row documented by the docstring under the field in the Struct that declares it.
"""

from __future__ import annotations

import ast
import functools
import inspect
import itertools
import sys
from pathlib import Path

import msgspec

from auth_service.settings import ENV_PREFIX as AUTH_PREFIX
from auth_service.settings import AuthSettings
from customer_service.settings import ENV_PREFIX as CUSTOMER_PREFIX
from customer_service.settings import CustomerSettings
from shared.settings import env_name, leaf_fields

__all__ = ["BEGIN", "END", "TABLES", "render_table", "render_tables", "update_readme"]

BEGIN, END = "<!-- settings:begin -->", "<!-- settings:end -->"
README = Path(__file__).resolve().parents[1] / "README.md"

TABLES: tuple[tuple[str, type[msgspec.Struct], str], ...] = (
    ("Auth service (`AUTH_*`)", AuthSettings, AUTH_PREFIX),
    ("Customer service (`CUSTOMER_*`)", CustomerSettings, CUSTOMER_PREFIX),
)
"""One table per service: its title, its settings Struct and its variables' prefix."""


@functools.cache
def _field_docs(cls: type) -> dict[str, str]:
    """Attribute docstrings: the string literal right after each annotated field of ``cls``."""
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
    rows = [f"### {title}", "", "| variable | default | meaning |", "|---|---|---|"]
    for owner, field in leaf_fields(cls):
        meaning = _field_docs(owner).get(field.name, "").replace("|", "\\|")
        rows.append(f"| `{env_name(prefix, field.name)}` | {_default(field)} | {meaning} |")
    return "\n".join(rows)


def render_tables() -> str:
    return "\n\n".join(render_table(title, cls, prefix) for title, cls, prefix in TABLES)


def update_readme(readme: Path = README) -> bool:
    """Rewrite the generated part; return True when it changed."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    new = text[:start] + "\n" + render_tables() + "\n" + text[end:]
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    changed = update_readme()
    print("README.md settings tables " + ("updated" if changed else "already current"))
    sys.exit(0)

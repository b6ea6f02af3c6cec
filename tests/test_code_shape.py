"""The house's size rules, outside tests/: no function over 60 lines, every module under 300.

A function is measured from its ``def`` line to its last line (decorators not counted, its
docstring, comments and blank lines counted: they are what a reader scrolls through); nested
functions and methods are measured on their own too. The checks are first shown to catch a
function and a module one line too long, so their passing means something.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

MAX_FUNCTION_LINES = 60
MAX_MODULE_LINES = 299
SKIPPED = {"tests", ".venv", ".data", "build", "dist", "node_modules"}


def source_files(root: Path = ROOT) -> Iterator[Path]:
    """Every Python file of the project except the tests, the virtualenv and hidden folders."""
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts[:-1]
        if not any(part in SKIPPED or part.startswith(".") or part == "__pycache__" for part in parts):
            yield path


def long_functions(source: str, name: str) -> list[str]:
    """``name:line function() is N lines`` for each function longer than the limit."""
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                found.append(f"{name}:{node.lineno} {node.name}() is {length} lines")
    return found


def module_lines(source: str) -> int:
    return len(source.splitlines())


def _function(body_lines: int) -> str:
    """A function of exactly ``body_lines + 2`` lines (decorator not counted), nested in a class."""
    body = "".join(f"        x{i} = {i}\n" for i in range(body_lines))
    return f"class C:\n    @staticmethod\n    def f() -> None:\n        '''Doc.'''\n{body}\n"


def test_the_function_check_catches_one_line_too_many() -> None:
    assert long_functions(_function(MAX_FUNCTION_LINES - 2), "ok.py") == []
    assert long_functions(_function(MAX_FUNCTION_LINES - 1), "long.py") == ["long.py:3 f() is 61 lines"]
    nested = "async def outer() -> None:\n    def inner() -> None:\n" + "        pass\n" * 60
    assert [entry.split()[1] for entry in long_functions(nested, "n.py")] == ["outer()", "inner()"]


def test_the_module_check_catches_the_300th_line() -> None:
    assert module_lines("x = 1\n" * MAX_MODULE_LINES) <= MAX_MODULE_LINES
    assert module_lines("x = 1\n" * (MAX_MODULE_LINES + 1)) > MAX_MODULE_LINES


def test_the_walk_sees_every_package_outside_tests() -> None:
    tops = {path.relative_to(ROOT).parts[0] for path in source_files()}
    assert {"auth_service", "customer_service", "shared", "devstack", "bench"} <= tops
    assert "tests" not in tops


@pytest.mark.parametrize("path", list(source_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_functions_are_at_most_60_lines(path: Path) -> None:
    found = long_functions(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not found, "; ".join(found)


@pytest.mark.parametrize("path", list(source_files()), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_are_under_300_lines(path: Path) -> None:
    lines = module_lines(path.read_text(encoding="utf-8"))
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)} has {lines} lines"

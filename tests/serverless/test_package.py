"""The zip writer of ``deploy/serverless/package.py`` on a tiny input (no wheel is downloaded:
``make lambda-package`` does that, outside ``make test``): the same files give the same bytes
whatever their order and times, entries are sorted with one fixed timestamp and fixed modes, and
caches, stubs and C sources stay out; the per-function omissions are what the docs say."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def package() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "lambda_package", ROOT / "deploy" / "serverless" / "package.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _tree(root: Path, mtime: int, order: list[str]) -> None:
    contents = {
        "pkg/__init__.py": b"",
        "pkg/mod.py": b"X = 1\n",
        "pkg/ext.so": b"\x7fELF",
        "pkg/sub/data.json": b"{}",
    }
    for name in order:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(contents[name])
        os.utime(path, (mtime, mtime))
    (root / "pkg" / "ext.so").chmod(0o755)
    for noise in ("pkg/__pycache__/mod.cpython-313.pyc", "pkg/mod.pyi", "pkg/ext.c"):
        (root / noise).parent.mkdir(parents=True, exist_ok=True)
        (root / noise).write_bytes(b"never shipped")


def test_zips_are_reproducible(package: ModuleType, tmp_path: Path) -> None:
    names = ["pkg/__init__.py", "pkg/mod.py", "pkg/ext.so", "pkg/sub/data.json"]
    built = []
    for run, (mtime, order) in enumerate([(1_600_000_000, names), (1_700_000_000, names[::-1])]):
        root = tmp_path / f"tree{run}"
        _tree(root, mtime, order)
        files = list(package._tree(root, "pkg"))
        out = tmp_path / f"out{run}.zip"
        assert package.write_zip(reversed(files), out) == sum(len(p.read_bytes()) for _, p in files)
        built.append(out)
    assert hashlib.sha256(built[0].read_bytes()).digest() == hashlib.sha256(built[1].read_bytes()).digest()
    with zipfile.ZipFile(built[0]) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    modes = {i.filename: i.external_attr >> 16 for i in infos}
    assert modes["pkg/ext.so"] == 0o100755
    assert modes["pkg/mod.py"] == 0o100644


def test_source_date_epoch_sets_the_timestamp(
    package: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(
        tmp_path / "tree", 1_600_000_000, ["pkg/__init__.py", "pkg/mod.py", "pkg/ext.so", "pkg/sub/data.json"]
    )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    package.write_zip(package._tree(tmp_path / "tree", "pkg"), tmp_path / "out.zip")
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert {i.date_time for i in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_what_each_function_leaves_out(package: ModuleType) -> None:
    locked = (ROOT / "requirements" / "serverless.txt").read_text()
    for omitted in package.OMITTED.values():
        for name in omitted:
            assert f"\n{name}==" in locked  # an omission names a distribution of the lock
    assert {"uvicorn", "faker", "polyfactory"} <= package.OMITTED["auth-service"]
    assert "argon2-cffi" in package.OMITTED["customer-service"]
    assert "argon2-cffi" not in package.OMITTED["auth-service"]
    assert "mangum" not in package.OMITTED["customer-service"] | package.OMITTED["auth-service"]

"""Build the Lambda deployment zips: ``make lambda-package`` (or ``python deploy/serverless/package.py``).

For each architecture (``x86_64``, ``arm64``) the hash-locked ``requirements/serverless.txt`` is
installed with pip for the Lambda runtime, never for this machine: ``--platform manylinux_*``
wheels only (``--only-binary=:all:``: nothing is compiled here), CPython ``PYTHON_VERSION``,
``--no-deps`` (the lock is complete) and ``--require-hashes``. No development dependency is in
that lock. Then one zip per function:

- ``auth-service.zip``: ``auth_service/`` and ``shared/`` (the API and the Maintenance function);
- ``customer-service.zip``: ``customer_service/`` and ``shared/``;

written to ``dist/<arch>/``, and the pair for ``--deploy-arch`` (default ``arm64``, the template's
default ``Architecture``) copied to ``dist/``, where the template's ``CodeUri`` points. Each zip has
the installed distributions minus those it never imports (``OMITTED``: the HTTP server
and the command-line tools Lambda does not run, the test-data factories Litestar depends on, and
for the customer API the auth service's own libraries). ``tests/serverless/test_cold_start.py``
serves requests with exactly these missing, so an omission that something needs fails there.

Reproducible: entries sorted, every timestamp ``SOURCE_DATE_EPOCH`` (default 1980-01-01), fixed
permissions, no ``__pycache__`` (Lambda compiles at start-up; ``.pyc`` files for the runtime's
Python could only be made by that Python). Two builds from the same lock give the same bytes.
Each zip's unzipped size is checked against ``LIMIT_BYTES`` and the largest distributions printed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import Distribution, distributions
from pathlib import Path

__all__ = [
    "FUNCTIONS",
    "LIMIT_BYTES",
    "OMITTED",
    "OMITTED_PATHS",
    "Function",
    "build",
    "function_files",
    "write_zip",
]

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements" / "serverless.txt"
PYTHON_VERSION = "3.13"
"""The template's ``Runtime: python3.13`` (Amazon Linux 2023)."""
PLATFORMS = {
    "x86_64": [f"manylinux_2_{minor}_x86_64" for minor in (34, 28, 17)] + ["manylinux2014_x86_64"],
    "arm64": [f"manylinux_2_{minor}_aarch64" for minor in (34, 28, 17)] + ["manylinux2014_aarch64"],
}
"""Amazon Linux 2023 has glibc 2.34: wheels for it or older."""
LIMIT_BYTES = 60_000_000
"""Our goal per function, unzipped (Lambda's own limit is 250 MB); sizes are printed in MB of 10^6."""

_COMMON_OMISSIONS = frozenset(
    {
        "uvicorn", "uvloop", "httptools",  # the HTTP server: API Gateway and Lambda's runtime serve
        "click", "rich", "rich-click", "pygments", "markdown-it-py", "mdurl",  # litestar's and httpx's CLIs
        "faker", "polyfactory",  # litestar's test-data factories
    }
)  # fmt: skip
_AUTH_ONLY = frozenset(
    {
        "argon2-cffi", "argon2-cffi-bindings", "webauthn", "cbor2", "pyopenssl", "pyasn1",
        "pyasn1-modules", "pyotp", "segno", "zxcvbn", "aiosmtplib", "cachetools", "jinja2", "markupsafe",
    }
)  # fmt: skip
OMITTED: dict[str, frozenset[str]] = {
    "auth-service": _COMMON_OMISSIONS | {"phonenumbers"},
    "customer-service": _COMMON_OMISSIONS | _AUTH_ONLY,
}
"""Distributions (normalised names) of the lock each function's zip leaves out."""
OMITTED_PATHS: dict[str, tuple[str, ...]] = {
    "auth-service": (),
    "customer-service": tuple(
        f"phonenumbers/{part}"
        for part in ("geodata", "geocoder.py", "carrierdata", "carrier.py", "tzdata", "timezone.py")
    ),
}
"""Parts of a kept distribution a function never imports: phonenumbers' geocoder, carrier and
time-zone data (19 of its 22 MB), which the customer API's parse, validate and format never load.
It is what ``phonenumberslite`` leaves out; switching the dependency to it would make this moot."""
_NEVER_LOADED = (".pyc", ".pyo", ".pyi", ".c", ".h", ".pyx", ".pxd")
"""Compiled caches for another Python, type stubs and C sources shipped in wheels for reference."""


@dataclass(frozen=True)
class Function:
    name: str
    packages: tuple[str, ...]


FUNCTIONS = (
    Function("auth-service", ("auth_service", "shared")),
    Function("customer-service", ("customer_service", "shared")),
)


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _source_epoch() -> tuple[int, int, int, int, int, int]:
    epoch = max(int(os.environ.get("SOURCE_DATE_EPOCH", "315532800")), 315532800)  # zip starts at 1980
    return time.gmtime(epoch)[:6]


def write_zip(files: Iterable[tuple[str, Path]], out: Path) -> int:
    """Write ``(name in the zip, file)`` pairs sorted by name, with fixed times and modes; the
    unzipped size in bytes. The same inputs give the same bytes, whatever order or mtimes."""
    stamp, total = _source_epoch(), 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, path in sorted(files, key=lambda pair: pair[0]):
            info = zipfile.ZipInfo(name, date_time=stamp)
            executable = path.stat().st_mode & stat.S_IXUSR
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            data = path.read_bytes()
            total += len(data)
            archive.writestr(info, data, compresslevel=9)
    return total


def _kept(path: Path) -> bool:
    return "__pycache__" not in path.parts and path.suffix not in _NEVER_LOADED and path.is_file()


def _tree(root: Path, package: str) -> Iterator[tuple[str, Path]]:
    for path in (root / package).rglob("*"):
        if _kept(path):
            yield path.relative_to(root).as_posix(), path


def _distribution_files(site: Path, dist: Distribution) -> Iterator[tuple[str, Path]]:
    for entry in dist.files or ():
        path = site / entry
        if _kept(path) and path.resolve().is_relative_to(site.resolve()):
            yield entry.as_posix(), path


def function_files(
    function: Function, site: Path, code_root: Path = ROOT
) -> tuple[list[tuple[str, Path]], dict[str, int]]:
    """The zip's entries, and the unzipped bytes of each distribution kept (for the size table)."""
    files = [entry for package in function.packages for entry in _tree(code_root, package)]
    sizes: dict[str, int] = {}
    for dist in distributions(path=[str(site)]):
        name = normalised(dist.metadata["Name"])
        if name in OMITTED[function.name]:
            continue
        dropped = OMITTED_PATHS[function.name]
        own = [(n, p) for n, p in _distribution_files(site, dist) if not n.startswith(dropped)]
        sizes[name] = sum(path.stat().st_size for _, path in own)
        files.extend(own)
    return files, sizes


def install(arch: str, site: Path) -> None:
    """The lock's wheels for the Lambda runtime on ``arch`` into ``site`` (downloads them)."""
    platforms = [flag for platform in PLATFORMS[arch] for flag in ("--platform", platform)]
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--require-hashes", "--no-deps", "--no-compile", "--only-binary=:all:",
        "--implementation", "cp", "--python-version", PYTHON_VERSION, *platforms,
        "--target", str(site), "-r", str(LOCK),
    ]  # fmt: skip
    subprocess.run(command, check=True)


def build(out: Path, architectures: Iterable[str]) -> list[tuple[Path, int, dict[str, int]]]:
    built = []
    for arch in architectures:
        with tempfile.TemporaryDirectory(prefix=f"lambda-{arch}-") as folder:
            site = Path(folder) / "site"
            install(arch, site)
            for function in FUNCTIONS:
                files, sizes = function_files(function, site)
                target = out / arch / f"{function.name}.zip"
                built.append((target, write_zip(files, target), sizes))
    return built


def _report(built: list[tuple[Path, int, dict[str, int]]]) -> bool:
    fits = True
    for target, unzipped, sizes in built:
        largest = sorted(sizes.items(), key=lambda item: -item[1])[:5]
        shown = ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in largest)
        verdict = "ok" if unzipped <= LIMIT_BYTES else f"over {LIMIT_BYTES / 1e6:.0f} MB"
        fits = fits and unzipped <= LIMIT_BYTES
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size / 1e6:.1f} MB zipped, "
              f"{unzipped / 1e6:.1f} MB unzipped ({verdict}); largest: {shown}")  # fmt: skip
    return fits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--arch", choices=[*PLATFORMS, "all"], default="all")
    parser.add_argument("--deploy-arch", choices=list(PLATFORMS), default="arm64")
    parser.add_argument("--out", type=Path, default=ROOT / "deploy" / "serverless" / "dist")
    options = parser.parse_args()
    architectures = list(PLATFORMS) if options.arch == "all" else [options.arch]
    shutil.rmtree(options.out, ignore_errors=True)
    built = build(options.out, architectures)
    for function in FUNCTIONS:
        chosen = options.out / options.deploy_arch / f"{function.name}.zip"
        if chosen.exists():
            shutil.copyfile(chosen, options.out / chosen.name)
    if not _report(built):
        sys.exit("a function is over the size goal")


if __name__ == "__main__":
    main()

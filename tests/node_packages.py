"""npm packages for the independent-client tests, installed once into a cache outside the repo.

Pinned exact versions and no lock file in the repository (a lock file records download
addresses); each package gets its own folder, filled in a staging folder and renamed into place,
so a concurrent run sees all of it or nothing. Without node or npm, or when npm fails, the test
skips with one line saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

__all__ = ["npm_package_home"]


def npm_package_home(package: str, version: str) -> Path:
    """A folder whose ``node_modules`` holds ``package@version``; ESM scripts placed in it import it."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fintech-auth-tests"
    home = cache / f"node-{package}-{version}"
    if (home / "node_modules" / package / "package.json").exists():
        return home
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip(f"node {package}: node or npm not installed")
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=cache))
    (staging / "package.json").write_text('{"private": true, "type": "module"}')
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", f"{package}@{version}"],
        cwd=staging,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.skip(f"node {package}: npm could not install {package}@{version}: {done.stderr.strip()[:200]}")
    try:
        staging.rename(home)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another run got there first
    return home

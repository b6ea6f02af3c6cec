"""Headless Chromium through chromedriver (Debian's ``chromium`` and ``chromium-driver``).

Without either binary every browser test skips with the same one line saying how to install them,
and the rest of the suite runs. Each page a test looks at is saved as a screenshot in
``$SCREENSHOT_DIR`` (default ``.data/screenshots/``, not committed), named by test and step, 1000
px wide: the README's "log in with the browser" walkthrough uses them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.provider import Provider, running_provider
from tests.conftest import ROOT

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
INSTALL = "browser tests need chromium and chromedriver: apt-get install chromium chromium-driver"
WIDTH = 1000


def _present(path: str) -> bool:
    return os.access(path, os.X_OK) or shutil.which(path) is not None


def skip_module_without_a_browser() -> None:
    """Called at the top of each browser test module: one skip line per module, nothing started."""
    if not (_present(CHROMIUM) and _present(CHROMEDRIVER)):
        pytest.skip(INSTALL, allow_module_level=True)


class Screenshots:
    """``shot(driver, step)`` saves ``<test>-<nn>-<step>.png``, the page cut to its height."""

    __slots__ = ("count", "folder", "test")

    def __init__(self, folder: Path, test: str) -> None:
        self.folder, self.test, self.count = folder, test, 0
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"{test}-*.png"):
            old.unlink()

    def shot(self, driver: WebDriver, step: str) -> Path:
        self.count += 1
        chrome, height = driver.execute_script(
            "return [window.outerHeight - window.innerHeight, document.documentElement.scrollHeight]"
        )
        driver.set_window_size(WIDTH, int(chrome) + min(max(int(height), 480), 1600))
        path = self.folder / f"{self.test}-{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', step.lower())}.png"
        driver.save_screenshot(str(path))
        return path


@pytest.fixture(scope="module", autouse=True)
def browser_installed() -> None:
    """First of the module's fixtures, so that no service starts for tests that will skip."""
    if not (_present(CHROMIUM) and _present(CHROMEDRIVER)):
        pytest.skip(INSTALL)


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    """A fresh headless Chromium (no cookies) per test, English first."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WIDTH},800",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshots(request: pytest.FixtureRequest) -> Screenshots:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or ROOT / ".data" / "screenshots")
    return Screenshots(folder, re.sub(r"^test_", "", request.node.name))


@pytest.fixture(scope="module")
def provider(
    pg_server_url: str,
    auth_template: str,
    redis_url: str,
    redis_namespace: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Provider]:
    with running_provider(
        pg_server_url, auth_template, redis_url, redis_namespace, tmp_path_factory.mktemp("browser")
    ) as running:
        yield running

"""``/static/``: our files, ``brand.css`` from the settings, the theme folder; nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from auth_service.web.brand import brand_css, contrast
from tests.auth_service.web.conftest import PagesFactory, probe_app


def _custom_properties(css: str) -> dict[str, str]:
    return dict(re.findall(r"(--[a-z-]+): (#[0-9a-f]{6});", css))


def test_brand_css_carries_the_configured_colour(make_pages: PagesFactory) -> None:
    with TestClient(probe_app(make_pages(primary_color="#7A1FA2"))) as client:
        page = client.get("/probe")
        link = re.search(r'href="(/static/brand\.css\?v=[0-9a-f]+)"', page.text)
        assert link, page.text
        response = client.get(link.group(1))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert _custom_properties(response.text)["--brand-primary"] == "#7a1fa2"


@pytest.mark.parametrize("primary", ["#FFFF00", "#0B5FFF", "#000000", "#777777", "#00C853"])
def test_brand_colours_are_readable(primary: str) -> None:
    colours = _custom_properties(brand_css(primary))
    assert contrast(colours["--brand-link"], "#ffffff") >= 4.5
    on_primary = colours["--brand-on-primary"]
    assert contrast(on_primary, primary) == max(contrast("#ffffff", primary), contrast("#111111", primary))


def test_an_unversioned_url_is_cached_an_hour_only(browser: TestClient[Litestar]) -> None:
    response = browser.get("/static/auth.css")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert ":focus-visible" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/static/../pages.py",
        "/static/%2e%2e/pages.py",
        "/static/..%2fpages.py",
        "/static/pages.py",
        "/static/",
        "/static/AUTH.CSS",
    ],
)
def test_nothing_outside_the_table_is_served(browser: TestClient[Litestar], path: str) -> None:
    response = browser.get(path)
    assert response.status_code == 404
    assert "import" not in response.text


@pytest.fixture
def theme(tmp_path: Path) -> Path:
    (tmp_path / "theme.css").write_text(".card { border-color: #123456; }", encoding="utf-8")
    (tmp_path / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "bg.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
    (tmp_path / ".env").write_text("SECRET=1", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("private", encoding="utf-8")
    return tmp_path


def test_a_theme_folder_is_served_and_loaded_after_our_css(make_pages: PagesFactory, theme: Path) -> None:
    with TestClient(probe_app(make_pages(theme_dir=str(theme), logo_url="logo.svg"))) as client:
        page = client.get("/probe").text
        ours = page.index("/static/auth.css")
        theirs = re.search(r'href="(/static/theme/theme\.css\?v=[0-9a-f]+)"', page)
        assert theirs
        assert page.index(theirs.group(1)) > ours
        assert client.get(theirs.group(1)).text == ".card { border-color: #123456; }"
        logo = re.search(r'<img class="logo" src="(/static/theme/logo\.svg\?v=[0-9a-f]+)"', page)
        assert logo, page
        svg = client.get(logo.group(1))
        assert svg.headers["content-type"] == "image/svg+xml"
        assert "sandbox" in svg.headers["content-security-policy"]  # opened directly, it runs nothing
        assert client.get("/static/theme/img/bg.png").headers["content-type"] == "image/png"
        assert client.get("/static/theme/.env").status_code == 404
        assert client.get("/static/theme/notes.txt").status_code == 404


def test_without_a_theme_there_is_no_theme_stylesheet(browser: TestClient[Litestar]) -> None:
    page = browser.get("/probe").text
    assert "/static/theme/" not in page
    assert '<span class="product-name">Fintech Auth</span>' in page


def test_an_https_logo_is_allowed_by_the_csp(make_pages: PagesFactory) -> None:
    with TestClient(probe_app(make_pages(logo_url="https://cdn.example.com/logo.png"))) as client:
        page = client.get("/probe")
    assert '<img class="logo" src="https://cdn.example.com/logo.png" alt="Fintech Auth">' in page.text
    assert "img-src 'self' data: https://cdn.example.com;" in page.headers["content-security-policy"]


@pytest.mark.parametrize("logo", ["missing.png", "http://cdn.example.com/logo.png", "../etc/passwd"])
def test_a_logo_that_is_neither_https_nor_a_theme_file_is_refused(
    make_pages: PagesFactory, theme: Path, logo: str
) -> None:
    with pytest.raises(ValueError, match="AUTH_LOGO_URL"):
        make_pages(theme_dir=str(theme), logo_url=logo)


def test_a_theme_dir_that_is_not_a_folder_is_refused(make_pages: PagesFactory, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="AUTH_THEME_DIR"):
        make_pages(theme_dir=str(tmp_path / "nowhere"))

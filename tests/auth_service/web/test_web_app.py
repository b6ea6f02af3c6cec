"""The foundation inside the real auth service: static files served, the CSRF secret from the KEK."""

from __future__ import annotations

import base64
import secrets

from auth_service.keys.sealing import KeyEncryptionKey
from auth_service.wiring import build_services
from tests.auth_service.conftest import AuthClient, SettingsFactory


def test_the_service_serves_the_stylesheets_without_a_token(auth: AuthClient) -> None:
    for name in ("auth.css", "brand.css"):
        response = auth.http.get(auth.services.browser.pages.static.url(name))
        assert response.status_code == 200, name
        assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert auth.http.get("/static/nothing.css").status_code == 404


def test_replicas_share_the_csrf_secret_through_the_kek(make_settings: SettingsFactory) -> None:
    settings = make_settings()
    first, second = build_services(settings), build_services(settings)
    assert first.browser.pages.csrf.config.secret == second.browser.pages.csrf.config.secret
    other = build_services(
        make_settings(key_encryption_key=base64.b64encode(secrets.token_bytes(32)).decode())
    )
    assert other.browser.pages.csrf.config.secret != first.browser.pages.csrf.config.secret


def test_the_csrf_cookie_is_host_prefixed_on_an_https_issuer(make_settings: SettingsFactory) -> None:
    assert build_services(make_settings()).browser.pages.csrf.config.cookie_name == "csrf"
    secure = build_services(make_settings(issuer="https://auth.example.com")).browser.pages.csrf.config
    assert secure.cookie_name == "__Host-csrf"
    assert secure.cookie_secure


def test_derived_secrets_are_per_purpose_and_reveal_no_kek() -> None:
    raw = secrets.token_bytes(32)
    kek = KeyEncryptionKey(raw)
    csrf = kek.derive("csrf")
    assert len(csrf) == 32
    assert csrf == KeyEncryptionKey.from_text(base64.urlsafe_b64encode(raw).decode()).derive("csrf")
    assert csrf != kek.derive("other")
    assert csrf != raw
    rotated = KeyEncryptionKey.from_settings(
        base64.b64encode(secrets.token_bytes(32)).decode(), "", previous=[base64.b64encode(raw).decode()]
    )
    assert rotated.derive("csrf") != csrf  # the newest KEK derives

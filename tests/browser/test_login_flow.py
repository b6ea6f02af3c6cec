"""A person logs in with a real browser: headless Chromium against the auth service as a process.

Two apps (tiny relying parties on 127.0.0.1): a third-party one, which gets the consent page, and
a first-party one, which does not. The walk: the login page, a wrong password, the right one,
consent, back at the app with a code it exchanged server-side (its ID token verified against the
JWKS); the second app logs in with no page at all (SSO: the same browser session, the same
``auth_time``); logout from the second app ends the session (both apps' refresh tokens are
refused); the first app's next login shows the login page again. Every page is a screenshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from tests.browser.conftest import Screenshots, skip_module_without_a_browser
from tests.browser.provider import Provider
from tests.browser.relying_party import RelyingParty

skip_module_without_a_browser()
pytestmark = pytest.mark.e2e

PASSWORD = "a sturdy passphrase for the browser 7"
THIRD_PARTY, FIRST_PARTY = "Budget Planner", "Fintech Console"


@pytest.fixture
def apps(provider: Provider) -> Iterator[tuple[RelyingParty, RelyingParty]]:
    """The third-party app (confidential) and the first-party one (public, PKCE only)."""
    metadata = provider.metadata()
    third, first = RelyingParty(THIRD_PARTY, metadata), RelyingParty(FIRST_PARTY, metadata)
    try:
        for app, members in (
            (third, {"first_party": False}),
            (first, {"first_party": True, "token_endpoint_auth_method": "none"}),
        ):
            client = provider.register_client(
                app.name,
                app.redirect_uri,
                post_logout_redirect_uris=[f"{app.url}/logged-out"],
                **members,
            )
            app.start(client)
        yield third, first
    finally:
        third.stop()
        first.stop()


def _at(driver: WebDriver, path: str, origin: str | None = None) -> None:
    def arrived(d: WebDriver) -> bool:
        here = urlsplit(d.current_url)
        return here.path == path and (origin is None or f"{here.scheme}://{here.netloc}" == origin)

    WebDriverWait(driver, 20).until(arrived, f"never reached {path}")


def _button(driver: WebDriver, refusal: bool = False) -> WebElement:
    """The form's submit button that is (or is not) the refusal."""
    for button in driver.find_elements(By.CSS_SELECTOR, "form button, form input[type=submit]"):
        label = " ".join(filter(None, (button.get_attribute(a) for a in ("name", "value")))) + button.text
        if any(word in label.lower() for word in ("deny", "cancel", "negar", "recusar")) == refusal:
            return button
    raise AssertionError(f"no {'refusal' if refusal else 'approving'} button on {driver.current_url}")


def _log_in(driver: WebDriver, email: str, password: str) -> None:
    login = driver.find_element(By.CSS_SELECTOR, "input[autocomplete=username]")
    secret = driver.find_element(By.CSS_SELECTOR, "input[type=password]")
    assert secret.get_attribute("autocomplete") == "current-password"
    login.clear()
    login.send_keys(email)
    secret.send_keys(password)
    _button(driver).click()


def _error_of(driver: WebDriver) -> str:
    """The error the password field points at (``aria-describedby``), as a screen reader reads it."""
    field = driver.find_element(By.CSS_SELECTOR, "input[type=password]")
    described = (field.get_attribute("aria-describedby") or "").split()
    texts = [driver.find_element(By.ID, ref).text for ref in described]
    return " ".join(text for text in texts if text)


def test_login_consent_sso_and_logout(
    browser: WebDriver,
    screenshots: Screenshots,
    provider: Provider,
    apps: tuple[RelyingParty, RelyingParty],
) -> None:
    third, first = apps
    person = provider.create_person(PASSWORD, name="Ana Souza", email_verified=True)

    def shot(step: str) -> None:
        screenshots.shot(browser, step)

    browser.get(third.url)
    shot("third-party app")
    browser.find_element(By.ID, "login").click()
    _at(browser, "/oauth/authorize", provider.issuer)
    assert THIRD_PARTY in browser.find_element(By.TAG_NAME, "body").text, "the page names the app"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    shot("login page")

    _log_in(browser, person["email"], "not the passphrase at all 1")
    _at(browser, "/login", provider.issuer)
    assert _error_of(browser), "a wrong password shows an error tied to the field"
    shot("wrong password")

    _log_in(browser, person["email"], PASSWORD)
    _at(browser, "/consent", provider.issuer)
    page = browser.find_element(By.TAG_NAME, "body").text
    assert f"{THIRD_PARTY} wants to access your account." in page
    assert "View customer records" in page, "each scope in plain words"
    assert "See your email address and whether it is verified" in page
    shot("consent")

    _button(browser).click()
    _at(browser, "/callback", third.url)
    assert browser.find_element(By.ID, "who").text == f"Signed in as {person['email']}"
    shot("signed in to the third-party app")
    signed_in = third.logins[-1]["claims"]
    assert signed_in["sub"] == person["id"]
    assert signed_in["name"] == "Ana Souza"
    assert signed_in["email_verified"] is True
    assert signed_in["amr"] == ["pwd"]
    assert signed_in["acr"] == "1"

    browser.get(first.url)
    browser.find_element(By.ID, "login").click()
    _at(browser, "/callback", first.url)
    assert browser.find_element(By.ID, "who").text == f"Signed in as {person['email']}"
    shot("signed in to the first-party app without a login")
    sso = first.logins[-1]["claims"]
    assert (sso["sid"], sso["auth_time"]) == (signed_in["sid"], signed_in["auth_time"]), "one session"

    browser.find_element(By.ID, "logout").click()
    _at(browser, "/logged-out", first.url)
    assert browser.find_element(By.ID, "bye").text == "You are signed out."
    shot("signed out")
    for app in (third, first):
        refused = app.refresh()
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "invalid_grant", "the session's refresh tokens are revoked"

    browser.get(third.url)
    browser.find_element(By.ID, "login").click()
    _at(browser, "/oauth/authorize", provider.issuer)
    assert browser.find_element(By.CSS_SELECTOR, "input[type=password]").is_displayed()
    shot("login page again after logout")


def test_denied_consent_returns_access_denied_in_portuguese(
    browser: WebDriver,
    screenshots: Screenshots,
    provider: Provider,
    apps: tuple[RelyingParty, RelyingParty],
) -> None:
    third, _ = apps
    person = provider.create_person(PASSWORD)
    browser.get(third.authorization_url() + "&ui_locales=pt-BR")
    _at(browser, "/oauth/authorize", provider.issuer)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "pt-BR"
    screenshots.shot(browser, "login page pt-BR")
    _log_in(browser, person["email"], PASSWORD)
    _at(browser, "/consent", provider.issuer)
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "pt-BR"
    assert "Ver os cadastros de clientes" in browser.find_element(By.TAG_NAME, "body").text
    screenshots.shot(browser, "consent pt-BR")
    _button(browser, refusal=True).click()
    _at(browser, "/callback", third.url)
    assert browser.find_element(By.ID, "error").text == "access_denied"
    assert not third.logins, "no code, no tokens"

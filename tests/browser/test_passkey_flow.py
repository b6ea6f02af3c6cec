"""Passkeys in a real browser: Chromium's virtual authenticator (WebDriver's virtual-authenticator API).

WebAuthn over plain http works only on a "potentially trustworthy" origin with a domain for RP id,
so this provider's issuer, RP id and origin are ``http://localhost:<port>`` (``127.0.0.1`` cannot
be an RP id). The virtual authenticator is a platform one with resident keys and user verification
(a laptop's fingerprint reader): the person signs in with the password, adds a passkey on the
account's passkey page, signs out, then signs in to an app with the passkey alone (``amr``
``hwk`` ``mfa``, ``acr`` 2); and with a password, the passkey as the second factor. Every page is
a screenshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import VirtualAuthenticatorOptions
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from devstack.embedded import free_port
from tests.browser.conftest import Screenshots, skip_module_without_a_browser
from tests.browser.provider import Provider, running_provider
from tests.browser.relying_party import RelyingParty

skip_module_without_a_browser()
pytestmark = pytest.mark.e2e

PASSWORD = "a sturdy passphrase for the passkeys 5"
PASSKEY_NAME = "Laptop fingerprint reader"


@pytest.fixture(scope="module")
def localhost(
    pg_server_url: str,
    auth_template: str,
    redis_url: str,
    redis_namespace: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Provider, str]]:
    """The provider with issuer, WebAuthn RP id and origin all on ``localhost``; its origin."""
    port = free_port()
    origin = f"http://localhost:{port}"
    extra = {"AUTH_ISSUER": origin, "AUTH_WEBAUTHN_RP_ID": "localhost", "AUTH_WEBAUTHN_ORIGINS": origin}
    folder = tmp_path_factory.mktemp("passkeys")
    with running_provider(
        pg_server_url, auth_template, redis_url, redis_namespace, folder, extra, port=port
    ) as running:
        yield running, origin


@pytest.fixture
def app(localhost: tuple[Provider, str]) -> Iterator[RelyingParty]:
    provider, origin = localhost
    relying = RelyingParty("Fintech Console", provider.metadata())
    assert relying.metadata["authorization_endpoint"].startswith(origin)
    client = provider.register_client(relying.name, relying.redirect_uri, first_party=True)
    relying.start(client)
    try:
        yield relying
    finally:
        relying.stop()


@pytest.fixture
def authenticator(browser: WebDriver) -> WebDriver:
    """A platform authenticator with a fingerprint reader that always recognises the person."""
    options = VirtualAuthenticatorOptions(
        transport=VirtualAuthenticatorOptions.Transport.INTERNAL,
        has_resident_key=True,
        has_user_verification=True,
        is_user_verified=True,
    )
    browser.add_virtual_authenticator(options)
    return browser


def _at(driver: WebDriver, path: str) -> None:
    WebDriverWait(driver, 20).until(lambda d: urlsplit(d.current_url).path == path, f"never reached {path}")


def _passkey_button(driver: WebDriver, form: str) -> None:
    """Click the (script-shown) passkey button of ``form[data-passkey=...]``."""
    selector = f'form[data-passkey="{form}"] button[type=submit]'
    button = WebDriverWait(driver, 10).until(
        expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, selector))
    )
    button.click()


def _options_asked(provider: Provider) -> int:
    """How many times a script asked for a passwordless login's options (the access log)."""
    return provider.process.log().count('"route":"/passkeys/login/options"')


def _password_login(driver: WebDriver, email: str) -> None:
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, 'form[action="/login"] button[type=submit]').click()


def _add_passkey(driver: WebDriver, origin: str, email: str, shot: Screenshots) -> None:
    driver.get(f"{origin}/account/passkeys")
    _at(driver, "/login")
    _password_login(driver, email)
    _at(driver, "/account/passkeys")
    assert "You have no passkeys yet." in driver.find_element(By.TAG_NAME, "body").text
    shot.shot(driver, "passkey list empty")
    driver.find_element(By.ID, "new_name").send_keys(PASSKEY_NAME)
    _passkey_button(driver, "create")
    WebDriverWait(driver, 20, ignored_exceptions=(WebDriverException,)).until(  # the page is being replaced
        lambda d: "Passkey added." in d.find_element(By.TAG_NAME, "body").text, "the passkey was never added"
    )
    shot.shot(driver, "passkey added")


def test_register_a_passkey_then_sign_in_with_it_alone(
    authenticator: WebDriver, screenshots: Screenshots, localhost: tuple[Provider, str], app: RelyingParty
) -> None:
    provider, origin = localhost
    browser, person = authenticator, provider.create_person(PASSWORD)
    _add_passkey(browser, origin, person["email"], screenshots)
    page = browser.find_element(By.TAG_NAME, "body").text
    assert PASSKEY_NAME in page
    assert "On this device or security key only" in page, "the virtual authenticator is not backup eligible"
    (credential,) = browser.get_credentials()
    assert credential.is_resident_credential, "a discoverable credential"
    assert credential.rp_id == "localhost"
    browser.get(f"{origin}/account")
    section = browser.find_element(By.ID, "passkeys_section_heading").find_element(By.XPATH, "..")
    assert PASSKEY_NAME in section.text, "the account page lists it too"
    screenshots.shot(browser, "account page")

    browser.delete_all_cookies()  # signed out; the authenticator keeps its passkey
    browser.get(app.url)
    browser.find_element(By.ID, "login").click()
    _at(browser, "/oauth/authorize")
    screenshots.shot(browser, "login page with the passkey button")
    asked_before = _options_asked(provider)
    _passkey_button(browser, "get")
    _at(browser, "/callback")
    assert browser.find_element(By.ID, "who").text == f"Signed in as {person['email']}"
    screenshots.shot(browser, "signed in with the passkey")
    claims = app.logins[-1]["claims"]
    assert claims["sub"] == person["id"]
    assert (claims["amr"], claims["acr"]) == (["hwk", "mfa"], "2")
    assert browser.get_credentials()[0].sign_count >= 1
    assert _options_asked(provider) == asked_before, "the login page's own options were used"

    browser.get(f"{origin}/healthz")  # the provider's cookies, not the app's
    browser.delete_all_cookies()  # a page whose options are too old: the script asks for fresh ones
    browser.get(app.url)
    browser.find_element(By.ID, "login").click()
    _at(browser, "/oauth/authorize")
    browser.execute_script(
        'document.querySelector("form[data-passkey=get]").removeAttribute("data-page-options")'
    )
    _passkey_button(browser, "get")
    _at(browser, "/callback")
    assert app.logins[-1]["claims"]["sub"] == person["id"]
    assert _options_asked(provider) == asked_before + 1


def test_a_passkey_as_the_second_factor_after_the_password(
    authenticator: WebDriver, screenshots: Screenshots, localhost: tuple[Provider, str], app: RelyingParty
) -> None:
    provider, origin = localhost
    browser, person = authenticator, provider.create_person(PASSWORD)
    _add_passkey(browser, origin, person["email"], screenshots)
    browser.delete_all_cookies()
    browser.get(app.url)
    browser.find_element(By.ID, "login").click()
    _at(browser, "/oauth/authorize")
    _password_login(browser, person["email"])
    _at(browser, "/login/second-factor")
    screenshots.shot(browser, "second step with a passkey")
    _passkey_button(browser, "get")
    _at(browser, "/callback")
    claims = app.logins[-1]["claims"]
    assert (claims["amr"], claims["acr"]) == (["pwd", "hwk", "mfa"], "2")

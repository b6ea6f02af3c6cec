"""Two-step verification with a real browser: a person sets up TOTP on the account page (the code
computed with pyotp from the setup key the page shows as text, as a person types it into an app),
then logs in to an app with the password and a code, and the app's ID token says so
(``amr`` ``["pwd", "otp", "mfa"]``, ``acr`` ``2``). Every page is a screenshot."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pyotp
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.wait import WebDriverWait

from tests.browser.conftest import Screenshots, skip_module_without_a_browser
from tests.browser.provider import Provider
from tests.browser.relying_party import RelyingParty

skip_module_without_a_browser()
pytestmark = pytest.mark.e2e

PASSWORD = "a sturdy passphrase for two steps 4"
APP = "Fintech Console"


@pytest.fixture
def app(provider: Provider) -> Iterator[RelyingParty]:
    party = RelyingParty(APP, provider.metadata())
    client = provider.register_client(
        APP, party.redirect_uri, first_party=True, token_endpoint_auth_method="none"
    )
    party.start(client)
    try:
        yield party
    finally:
        party.stop()


def _at(driver: WebDriver, path: str) -> None:
    WebDriverWait(driver, 20).until(
        lambda d: (
            urlsplit(d.current_url).path == path
            and d.execute_script("return document.readyState") == "complete"
        ),
        f"never reached {path}",
    )


def _type(driver: WebDriver, selector: str, text: str) -> None:
    field = driver.find_element(By.CSS_SELECTOR, selector)
    field.clear()
    field.send_keys(text)


def _submit(driver: WebDriver, form: str) -> None:
    """Submit ``form`` and wait for the next page (the click alone may return before it, and an
    answer at the same address would otherwise be read from the old page)."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, f'form[action="{form}"] button[type=submit]').click()
    WebDriverWait(driver, 20).until(staleness_of(page), f"{form} never answered")


def test_set_up_totp_on_the_account_page_then_log_in_with_it(
    browser: WebDriver, screenshots: Screenshots, provider: Provider, app: RelyingParty
) -> None:
    person = provider.create_person(PASSWORD, name="Rita Alves")
    browser.get(f"{provider.issuer}/account")
    _at(browser, "/login")
    _type(browser, "input[autocomplete=username]", person["email"])
    _type(browser, "input[type=password]", PASSWORD)
    _submit(browser, "/login")
    _at(browser, "/account")
    assert "Set up an authenticator app" in browser.find_element(By.TAG_NAME, "body").text
    screenshots.shot(browser, "account page")

    browser.find_element(By.LINK_TEXT, "Set up an authenticator app").click()
    _at(browser, "/account/totp")
    qr = browser.find_element(By.CSS_SELECTOR, "figure.qr svg")
    assert qr.size["width"] >= 150, "the QR code is drawn (inline SVG, allowed by the CSP)"
    secret = browser.find_element(By.ID, "totp_secret").text.replace(" ", "")
    screenshots.shot(browser, "totp setup")
    _type(browser, "#setup_code", pyotp.TOTP(secret).now())
    _type(browser, "#setup_password", PASSWORD)
    _submit(browser, "/account/totp")
    codes = [c.text for c in browser.find_elements(By.CSS_SELECTOR, ".code-list code")]
    assert len(codes) == 10
    screenshots.shot(browser, "recovery codes")
    browser.find_element(By.LINK_TEXT, "Back to your account").click()
    _at(browser, "/account")
    assert "On since" in browser.find_element(By.TAG_NAME, "body").text
    screenshots.shot(browser, "account with totp")

    browser.delete_all_cookies()  # a new day: signed out of the provider
    browser.get(app.url)
    browser.find_element(By.ID, "login").click()
    _at(browser, "/oauth/authorize")
    _type(browser, "input[autocomplete=username]", person["email"])
    _type(browser, "input[type=password]", PASSWORD)
    _submit(browser, "/login")
    _at(browser, "/login/second-factor")
    assert browser.find_element(By.ID, "totp_code") == browser.switch_to.active_element
    screenshots.shot(browser, "second step")
    _type(browser, "#totp_code", "000000")
    _submit(browser, "/login/second-factor")
    field = browser.find_element(By.ID, "totp_code")
    assert field.get_attribute("aria-invalid") == "true"
    assert "not correct" in browser.find_element(By.ID, "totp_error").text
    screenshots.shot(browser, "wrong code")
    next_step = pyotp.TOTP(secret).at(time.time() + 30)  # not the step the enrolment used
    _type(browser, "#totp_code", next_step)
    _submit(browser, "/login/second-factor")
    _at(browser, "/callback")
    assert browser.find_element(By.ID, "who").text == f"Signed in as {person['email']}"
    screenshots.shot(browser, "signed in with two factors")
    claims = app.logins[-1]["claims"]
    assert (claims["amr"], claims["acr"]) == (["pwd", "otp", "mfa"], "2")

"""A person who forgot their password, in a real browser, reading the mail the service really sent.

The auth service runs as a process pointed at this module's own SMTP server (aiosmtpd over TCP).
The walk: the login page's "Forgot your password?" link, the form, the same "check your inbox"
page, the link read from the received mail, a password the policy refuses, a good one; the old
password no longer signs in, the new one does; the "password changed" notice arrived. Then, signed
in, ``/account/email`` sends a verification link, opened in the browser and confirmed with its
button. Every page is a screenshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.wait import WebDriverWait

from tests.browser.conftest import Screenshots, skip_module_without_a_browser
from tests.browser.provider import Provider, running_provider
from tests.mail_server import MailServer, link_in

skip_module_without_a_browser()
pytestmark = pytest.mark.e2e

PASSWORD = "the passphrase I forgot 3"
NEW_PASSWORD = "a fresh passphrase I will keep 8"


@pytest.fixture(scope="module")
def mail() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mailing_provider(
    pg_server_url: str,
    auth_template: str,
    redis_url: str,
    redis_namespace: str,
    tmp_path_factory: pytest.TempPathFactory,
    mail: MailServer,
) -> Iterator[Provider]:
    extra = {
        "AUTH_SMTP_HOST": mail.host,
        "AUTH_SMTP_PORT": str(mail.port),
        "AUTH_SMTP_SECURITY": "none",
        "AUTH_MAIL_POLL_INTERVAL": "0.1",
    }
    folder = tmp_path_factory.mktemp("browser-mail")
    with running_provider(pg_server_url, auth_template, redis_url, redis_namespace, folder, extra) as running:
        yield running


def _at(driver: WebDriver, path: str) -> None:
    WebDriverWait(driver, 20).until(
        lambda d: (
            urlsplit(d.current_url).path == path
            and d.execute_script("return document.readyState") == "complete"
        ),
        f"never reached {path}",
    )


def _submit(driver: WebDriver) -> None:
    """Submit the page's form and wait for the next page (the click alone may return before it)."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    WebDriverWait(driver, 20).until(staleness_of(page), "the form's answer never came")


def _text(driver: WebDriver) -> str:
    return str(driver.find_element(By.TAG_NAME, "main").text)


def _password_grant(provider: Provider, email: str, password: str) -> int:
    form = {"grant_type": "password", "client_id": "first-party", "username": email, "password": password}
    return httpx.post(f"{provider.issuer}/oauth/token", data=form, timeout=30).status_code


def _choose_password(driver: WebDriver, password: str) -> None:
    for field in ("password", "password_confirm"):
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(password)
    _submit(driver)


def _forgot_and_reset(
    browser: WebDriver, provider: Provider, mail: MailServer, email: str, shot: Screenshots
) -> None:
    browser.get(f"{provider.issuer}/login?return_to=%2Faccount%2Femail")
    shot.shot(browser, "login page")
    browser.find_element(By.LINK_TEXT, "Forgot your password?").click()
    _at(browser, "/password/forgot")
    browser.find_element(By.ID, "email").send_keys(email)
    shot.shot(browser, "forgot password")
    _submit(browser)
    assert "Check your inbox" in _text(browser)
    shot.shot(browser, "check your inbox")
    [reset_mail] = mail.wait_for(1)
    assert reset_mail.rcpt_tos == [email]
    browser.get(link_in(reset_mail, "/password/reset"))
    assert f"For the account {email}." in _text(browser)
    _choose_password(browser, "password1234")
    error = browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert "too short or too easy to guess" in error
    assert "reset_error" in (browser.find_element(By.ID, "password").get_attribute("aria-describedby") or "")
    shot.shot(browser, "reset refused weak password")
    _choose_password(browser, NEW_PASSWORD)
    assert "Your password was changed" in _text(browser)
    shot.shot(browser, "password changed")


def test_forgot_password_then_verify_the_address(
    browser: WebDriver, screenshots: Screenshots, mailing_provider: Provider, mail: MailServer
) -> None:
    email = mailing_provider.create_person(PASSWORD)["email"]
    _forgot_and_reset(browser, mailing_provider, mail, email, screenshots)
    assert _password_grant(mailing_provider, email, PASSWORD) == 400
    assert _password_grant(mailing_provider, email, NEW_PASSWORD) == 200
    notice = mail.wait_for(2)[1]
    assert notice.message["Subject"] == "Your Fintech Auth password was changed"

    browser.get(f"{mailing_provider.issuer}/login?return_to=%2Faccount%2Femail")
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(NEW_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
    _at(browser, "/account/email")
    assert f"{email} is not verified yet" in _text(browser)
    screenshots.shot(browser, "account email unverified")
    _submit(browser)
    assert f"We sent a new link to {email}" in _text(browser)
    screenshots.shot(browser, "verification link sent")
    verification = mail.wait_for(3)[2]
    browser.get(link_in(verification, "/email/verify"))
    assert f"{email} is your email address" in _text(browser)
    screenshots.shot(browser, "confirm email address")
    _submit(browser)
    assert f"{email} is now verified" in _text(browser)
    screenshots.shot(browser, "email address confirmed")
    browser.get(f"{mailing_provider.issuer}/account/email")
    assert f"{email} is verified." in _text(browser)

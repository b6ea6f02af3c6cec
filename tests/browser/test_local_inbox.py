"""``make run``'s inbox page in a real browser: a reset mail as the auth service composes it, listed
and read (text part, links clickable, HTML only as escaped source). Screenshots for the README."""

from __future__ import annotations

from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from auth_service.account_settings import MailSettings
from auth_service.mail.composer import MailComposer
from auth_service.mail.smtp import Outgoing, SmtpTransport
from devstack.embedded import free_port
from devstack.mailbox import LocalMailbox
from tests.browser.conftest import Screenshots, skip_module_without_a_browser

skip_module_without_a_browser()

LINK = "http://127.0.0.1:8000/password/reset?token=Zm9yIHRoZSBzY3JlZW5zaG90IG9ubHkgLSBub3QgcmVhbA"


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[LocalMailbox]:
    box = LocalMailbox(tmp_path / "mail", inbox_port=free_port())
    box.start()
    yield box
    box.stop()


async def _send(box: LocalMailbox) -> None:
    composer = MailComposer("Fintech Auth <no-reply@localhost>", product="Fintech Auth", color="#0B5FFF",
                            default_locale="en")  # fmt: skip
    message = composer.compose(
        "password_reset", to="ana@example.com", locale="en", context={"link": LINK, "validity": "15 minutes"}
    )
    settings = MailSettings(smtp_host="127.0.0.1", smtp_port=box.smtp_port, smtp_security="none")
    [outcome] = await SmtpTransport(settings, sender="no-reply@localhost").deliver(
        [Outgoing("ana@example.com", message.as_bytes(policy=policy.SMTP))]
    )
    assert outcome.sent, outcome.error


async def test_the_inbox_lists_and_shows_a_message(
    browser: WebDriver, screenshots: Screenshots, mailbox: LocalMailbox
) -> None:
    await _send(mailbox)
    browser.get(mailbox.inbox_url)
    browser.find_element(By.LINK_TEXT, "Reset your Fintech Auth password")
    screenshots.shot(browser, "inbox")
    browser.find_element(By.LINK_TEXT, "Reset your Fintech Auth password").click()
    link = browser.find_element(By.CSS_SELECTOR, "pre a")
    assert link.get_attribute("href") == LINK
    assert browser.find_elements(By.CSS_SELECTOR, "body table") == []  # the HTML part is not rendered
    screenshots.shot(browser, "inbox message")

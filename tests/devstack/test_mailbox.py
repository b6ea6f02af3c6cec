"""``make run``'s local mail server and inbox page: every message kept as a file, shown escaped."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import httpx
import pytest

from devstack.embedded import free_port
from devstack.mailbox import LocalMailbox, local_mailbox


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[LocalMailbox]:
    box = LocalMailbox(tmp_path / "mail", inbox_port=free_port())
    box.start()
    yield box
    box.stop()


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Fintech Auth <no-reply@localhost>"
    message["To"] = "ana@example.com"
    message["Subject"] = "Redefina sua senha <já>"
    message.set_content("Abra: http://127.0.0.1:8000/password/reset?token=abc&x=1 agora\n")
    message.add_alternative('<p>Hi</p><script>alert("x")</script>', subtype="html")
    return message


async def test_a_message_is_kept_listed_and_shown_escaped(mailbox: LocalMailbox) -> None:
    await aiosmtplib.send(_message(), hostname="127.0.0.1", port=mailbox.smtp_port, start_tls=False)
    [kept] = sorted(mailbox.folder.glob("*.eml"))
    assert b"ana@example.com" in kept.read_bytes()
    async with httpx.AsyncClient(base_url=mailbox.inbox_url) as http:
        inbox = await http.get("/")
        assert inbox.status_code == 200
        assert "default-src 'none'" in inbox.headers["content-security-policy"]
        assert "Redefina sua senha &lt;já&gt;" in inbox.text
        assert f'href="/message/{kept.name}"' in inbox.text
        page = await http.get(f"/message/{kept.name}")
    assert page.status_code == 200
    link = "http://127.0.0.1:8000/password/reset?token=abc&amp;x=1"
    assert f'<a href="{link}" rel="noreferrer">{link}</a> agora' in page.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page.text
    assert "<script>" not in page.text


async def test_only_our_files_are_served(mailbox: LocalMailbox, tmp_path: Path) -> None:
    (tmp_path / "secret.eml").write_text("Subject: not yours\n\nx")
    async with httpx.AsyncClient(base_url=mailbox.inbox_url) as http:
        for path in ("/message/../secret.eml", "/message/%2e%2e%2fsecret.eml", "/message/nope.eml", "/other"):
            assert (await http.get(path)).status_code == 404, path
        assert "No mail yet" in (await http.get("/")).text


def test_no_local_server_when_the_operator_names_one(tmp_path: Path) -> None:
    assert local_mailbox({"AUTH_SMTP_HOST": "smtp.internal"}, tmp_path) is None


def test_a_taken_or_bad_inbox_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ValueError, match=rf"^inbox: 127.0.0.1:{port} is already in use; set INBOX_PORT"):
            local_mailbox({"INBOX_PORT": str(port)}, tmp_path)
    with pytest.raises(ValueError, match="INBOX_PORT: 'x' is not a port number"):
        local_mailbox({"INBOX_PORT": "x"}, tmp_path)


def test_the_stack_points_the_auth_service_at_it(tmp_path: Path) -> None:
    box = local_mailbox({"INBOX_PORT": str(free_port())}, tmp_path)
    assert box is not None
    try:
        assert box.environment() == {
            "AUTH_SMTP_HOST": "127.0.0.1",
            "AUTH_SMTP_PORT": str(box.smtp_port),
            "AUTH_SMTP_SECURITY": "none",
        }
    finally:
        box.stop()

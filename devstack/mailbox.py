"""``make run``'s mail: a local SMTP server and an inbox page, the Mailpit experience without Docker.

``LocalMailbox`` runs an SMTP server (aiosmtpd, on 127.0.0.1 and a free port, no TLS, no login:
the auth service on the same host is pointed at it with ``AUTH_SMTP_SECURITY=none``) that keeps
every message it accepts as one ``.eml`` file in ``.data/mail`` (named by arrival time, so they
sort; kept between runs, delete them at will), and a small web page on its own localhost port
that lists them, newest first, and shows one: its headers and text part, with links made
clickable, and the HTML part as escaped source, never rendered. Both run in threads of the stack
process and stop with it. It accepts mail for any address and relays nothing.
"""

from __future__ import annotations

import html
import re
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from devstack.embedded import free_port

__all__ = ["DEFAULT_INBOX_PORT", "LocalMailbox", "inbox_page", "local_mailbox", "message_page"]

HOST: Final = "127.0.0.1"
DEFAULT_INBOX_PORT: Final = 8025
_NAME: Final = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{8}\.eml")
_URL: Final = re.compile(r"https?://[^\s<>\"']+")
_CSP: Final = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
_STYLE: Final = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#1a1a1a}table{border-collapse:collapse;width:100%}"
    "td,th{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ddd}pre{white-space:pre-wrap;"
    "background:#f4f5f7;padding:1rem;border-radius:6px}a{color:#0b5fff}dt{font-weight:600}"
)


def _parse(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _linked(text: str) -> str:
    """``text`` escaped, its http(s) URLs as links (each piece escaped on its own)."""
    pieces, last = [], 0
    for match in _URL.finditer(text):
        url = html.escape(match.group(0))
        pieces += [html.escape(text[last : match.start()]), f'<a href="{url}" rel="noreferrer">{url}</a>']
        last = match.end()
    return "".join([*pieces, html.escape(text[last:])])


def _document(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def inbox_page(folder: Path) -> str:
    """Every kept message, newest first: date, from, to, subject (a link to the message)."""
    rows = []
    for path in sorted(folder.glob("*.eml"), reverse=True):
        if not _NAME.fullmatch(path.name):
            continue
        message = _parse(path)
        cells = [str(message.get(name, "")) for name in ("Date", "From", "To")]
        subject = html.escape(str(message.get("Subject", "(no subject)")))
        rows.append(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells)
            + f'<td><a href="/message/{path.name}">{subject}</a></td></tr>'
        )  # fmt: skip
    table = (
        "<table><thead><tr><th>Date</th><th>From</th><th>To</th><th>Subject</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>No mail yet. Messages the auth service sends appear here.</p>"
    )
    return _document("Inbox", f"<h1>Inbox</h1><p>Kept in {html.escape(str(folder))}</p>{table}")


def message_page(folder: Path, name: str) -> str | None:
    """One message (``None``: no such file of ours): headers, text part, HTML part as source."""
    path = folder / name
    if not _NAME.fullmatch(name) or not path.is_file():
        return None
    message = _parse(path)
    headers = "".join(
        f"<dt>{field}</dt><dd>{html.escape(str(message.get(field, '')))}</dd>"
        for field in ("Subject", "From", "To", "Date", "Message-ID", "Content-Language")
    )
    text_part, html_part = message.get_body(("plain",)), message.get_body(("html",))
    text = str(text_part.get_content()) if text_part is not None else "(no text part)"
    source = str(html_part.get_content()) if html_part is not None else ""
    body = (
        f'<p><a href="/">&larr; Inbox</a></p><h1>{html.escape(str(message.get("Subject", "")))}</h1>'
        f"<dl>{headers}</dl><h2>Text</h2><pre>{_linked(text)}</pre>"
        + (f"<details><summary>HTML part (source)</summary><pre>{html.escape(source)}</pre></details>"
           if source else "")
    )  # fmt: skip
    return _document(str(message.get("Subject", "Message")), body)


class _Keeper:
    """aiosmtpd handler: every message becomes one file (written whole, then renamed into place)."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        partial = self._folder / f".{name}.part"
        partial.write_bytes(envelope.original_content or b"")
        partial.rename(self._folder / name)
        return "250 Message kept"


def _inbox_handler(folder: Path) -> type[BaseHTTPRequestHandler]:
    class Inbox(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            page = inbox_page(folder) if path == "/" else None
            if path.startswith("/message/"):
                page = message_page(folder, path.removeprefix("/message/"))
            data = (page or _document("Not found", "<h1>Not found</h1>")).encode()
            self.send_response(200 if page is not None else 404)
            for name, value in (
                ("Content-Type", "text/html; charset=utf-8"), ("Content-Security-Policy", _CSP),
                ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
                ("Cache-Control", "no-store"), ("Content-Length", str(len(data))),
            ):  # fmt: skip
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Inbox


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


class LocalMailbox:
    __slots__ = ("_controller", "_http", "folder", "inbox_port", "smtp_port")

    def __init__(self, folder: Path, *, inbox_port: int | None = None) -> None:
        """``inbox_port``: the page's (``INBOX_PORT``); unset, 8025 when free, else any free port."""
        self.folder = folder
        self.smtp_port = free_port()
        if inbox_port is None:
            inbox_port = DEFAULT_INBOX_PORT if _port_free(DEFAULT_INBOX_PORT) else free_port()
        self.inbox_port = inbox_port
        self._controller: Controller | None = None
        self._http: ThreadingHTTPServer | None = None

    @property
    def inbox_url(self) -> str:
        return f"http://{HOST}:{self.inbox_port}/"

    def environment(self) -> dict[str, str]:
        """What points the auth service at this server."""
        return {"AUTH_SMTP_HOST": HOST, "AUTH_SMTP_PORT": str(self.smtp_port), "AUTH_SMTP_SECURITY": "none"}

    def start(self) -> None:
        """Raises ``OSError`` when the inbox port is taken (only when it was asked for)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._http = ThreadingHTTPServer((HOST, self.inbox_port), _inbox_handler(self.folder))
        threading.Thread(target=self._http.serve_forever, name="inbox-page", daemon=True).start()
        self._controller = Controller(_Keeper(self.folder), hostname=HOST, port=self.smtp_port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None


def local_mailbox(environ: Mapping[str, str], folder: Path) -> LocalMailbox | None:
    """The stack's mailbox, started; ``None`` when ``AUTH_SMTP_HOST`` names a server of the
    operator's. Raises ``ValueError`` with one line to show for a bad or taken ``INBOX_PORT``."""
    if environ.get("AUTH_SMTP_HOST"):
        return None
    asked = environ.get("INBOX_PORT")
    if asked is not None and not (asked.isdigit() and 1 <= int(asked) <= 65535):
        raise ValueError(f"INBOX_PORT: {asked!r} is not a port number")
    mailbox = LocalMailbox(folder, inbox_port=int(asked) if asked else None)
    try:
        mailbox.start()
    except OSError:
        mailbox.stop()
        raise ValueError(
            f"inbox: 127.0.0.1:{mailbox.inbox_port} is already in use; set INBOX_PORT to a free port"
        ) from None
    return mailbox

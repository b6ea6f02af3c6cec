"""A person at the hosted pages without a browser: an httpx client with a cookie jar that reads
each HTML page's form and submits it as a person would (email, password, allow), for the tests
whose subject is a client library rather than the pages.

It knows no field name of ours beyond what HTML says: the password field by its type, the email
field by its type or ``autocomplete="username"``, hidden fields (the CSRF token, the request id)
sent back unchanged, and the button that is not a refusal. So a page that renamed its fields still
works here, and a page that lost its CSRF field fails at the server, as it would for a person.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

__all__ = ["Form", "Person", "forms_of"]

_REFUSAL = re.compile(r"deny|cancel|reject|abort|refuse", re.IGNORECASE)


class Form:
    __slots__ = ("action", "buttons", "fields", "method")

    def __init__(self, action: str, method: str) -> None:
        self.action, self.method = action, method
        self.fields: list[dict[str, str]] = []
        self.buttons: list[dict[str, str]] = []

    def has_password(self) -> bool:
        return any(field.get("type") == "password" for field in self.fields)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append(Form(found.get("action", ""), found.get("method", "get").lower()))
        elif self.forms and tag == "input":
            kind = found.setdefault("type", "text").lower()
            (self.forms[-1].buttons if kind == "submit" else self.forms[-1].fields).append(found)
        elif self.forms and tag == "button" and found.get("type", "submit") == "submit":
            self.forms[-1].buttons.append(found)


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class Person:
    """Follows redirects by hand (to stop at the client's redirect URI) and fills the pages."""

    __slots__ = ("email", "http", "pages", "password", "user_code")

    def __init__(self, email: str, password: str) -> None:
        self.email, self.password = email, password
        self.user_code = ""
        self.http = httpx.Client(timeout=30, follow_redirects=False)
        self.pages: list[str] = []  # the paths of the pages shown, for assertions

    def close(self) -> None:
        self.http.close()

    def _fill(self, form: Form) -> dict[str, str]:
        data: dict[str, str] = {}
        for field in form.fields:
            name, kind = field.get("name"), field["type"]
            if not name or (kind in ("checkbox", "radio") and "checked" not in field):
                continue
            if kind == "password":
                data[name] = self.password
            elif kind == "email" or field.get("autocomplete") == "username":
                data[name] = self.email
            elif "code" in name and not field.get("value") and self.user_code:
                data[name] = self.user_code
            else:
                data[name] = field.get("value", "")
        approve = [b for b in form.buttons if not _REFUSAL.search(b.get("name", "") + b.get("value", ""))]
        if approve and approve[0].get("name"):
            data[approve[0]["name"]] = approve[0].get("value", "")
        return data

    def visit(self, url: str, stop_at: str, *, steps: int = 12) -> httpx.Response:
        """GET ``url`` and go on (redirects, forms) until a redirect to ``stop_at`` (returned,
        not followed) or a page without a form to submit (returned)."""
        response = self.http.get(url)
        for _ in range(steps):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if target.startswith(stop_at):
                    return response
                response = self.http.get(target)
                continue
            self.pages.append(urlsplit(str(response.url)).path)
            forms = [form for form in forms_of(response.text) if form.method == "post"]
            if not forms or response.status_code >= 400:
                return response
            form = next((f for f in forms if f.has_password()), forms[0])
            target = urljoin(str(response.url), form.action or str(response.url))
            response = self.http.post(target, data=self._fill(form))
        raise AssertionError(f"still no answer after {steps} steps: {response.status_code} {response.url}")

    def authorize(self, url: str, redirect_uri: str) -> dict[str, str]:
        """The query of the redirect back to the client (``code``, ``state``, ``iss`` or ``error``)."""
        response = self.visit(url, redirect_uri)
        assert response.is_redirect, f"{response.status_code} at {response.url}: {response.text[:300]}"
        query = parse_qs(urlsplit(response.headers["location"]).query)
        return {key: values[0] for key, values in query.items()}

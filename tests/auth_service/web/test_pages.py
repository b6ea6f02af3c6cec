"""What every hosted page gets from the foundation: headers, CSRF, language, escaping, error pages."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import TestClient

from tests.auth_service.web.conftest import PagesFactory, probe_app

STRICT_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "x-frame-options": "DENY",
    "cache-control": "no-store",
    "pragma": "no-cache",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


def csrf_token(html: str) -> str:
    found = re.search(r'<input type="hidden" name="_csrf_token" value="([0-9a-f]+)">', html)
    assert found, html
    return found.group(1)


def test_a_page_carries_the_security_headers(browser: TestClient[Litestar]) -> None:
    response = browser.get("/probe", headers={"Accept-Language": "pt-BR"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == STRICT_CSP
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["content-language"] == "pt-BR"
    assert '<html lang="pt-BR">' in response.text


def test_form_targets_join_form_action(browser: TestClient[Litestar]) -> None:
    targets = [
        "https://app.example:8443/cb?x=1",
        "http://127.0.0.1:51234/callback",
        "com.example.app:/oauth",
        "https://evil.example;script-src *",  # cannot smuggle a directive into the policy
    ]
    response = browser.get("/probe", params={"target": targets})
    policy = response.headers["content-security-policy"]
    assert "form-action 'self' https://app.example:8443 http://127.0.0.1:* com.example.app:;" in policy
    assert "evil" not in policy
    assert policy.count(";") == STRICT_CSP.count(";")


def test_a_redirect_carries_the_security_headers(browser: TestClient[Litestar]) -> None:
    response = browser.get("/away", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["content-security-policy"] == STRICT_CSP
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value


def test_a_post_without_the_csrf_token_is_refused(browser: TestClient[Litestar]) -> None:
    browser.get("/probe")  # has the cookie, but a forged form does not know the token
    response = browser.post("/probe", data={"name": "mallory"})
    assert response.status_code == 403
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "This form has expired" in response.text
    assert "mallory" not in response.text
    assert response.headers["x-frame-options"] == "DENY"


def test_a_post_with_a_wrong_token_or_no_cookie_is_refused(browser: TestClient[Litestar]) -> None:
    token = csrf_token(browser.get("/probe").text)
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert browser.post("/probe", data={"name": "x", "_csrf_token": forged}).status_code == 403
    browser.cookies.clear()  # a cross-site form: the token copied from a page, not the victim's cookie
    assert browser.post("/probe", data={"name": "x", "_csrf_token": token}).status_code == 403


def test_a_post_with_the_token_of_the_page_goes_through(browser: TestClient[Litestar]) -> None:
    page = browser.get("/probe")
    assert page.headers["set-cookie"].startswith("csrf=")
    assert "HttpOnly" in page.headers["set-cookie"]
    assert "SameSite=lax" in page.headers["set-cookie"]
    response = browser.post("/probe", data={"name": "alice", "_csrf_token": csrf_token(page.text)})
    assert response.status_code == 200
    assert '<h1 id="shown">alice</h1>' in response.text


def test_another_secret_does_not_accept_the_token(make_pages: PagesFactory) -> None:
    """Replicas share the secret (derived from the KEK); a token signed with another one is refused."""
    with TestClient(probe_app(make_pages(secret=b"a" * 32))) as first:
        token = csrf_token(first.get("/probe").text)
        cookie = first.cookies["csrf"]
    with TestClient(probe_app(make_pages(secret=b"a" * 32))) as same:
        same.cookies.set("csrf", cookie)
        assert same.post("/probe", data={"name": "x", "_csrf_token": token}).status_code == 200
    with TestClient(probe_app(make_pages(secret=b"b" * 32))) as other:
        other.cookies.set("csrf", cookie)
        assert other.post("/probe", data={"name": "x", "_csrf_token": token}).status_code == 403


def test_an_exempt_route_takes_cross_site_posts_and_its_page_has_a_token(
    browser: TestClient[Litestar],
) -> None:
    response = browser.post("/cross-site", data={"anything": "1"})
    assert response.status_code == 200
    token = csrf_token(response.text)
    assert response.headers["set-cookie"].startswith(f"csrf={token};")
    # the page's own form then works
    assert browser.post("/probe", data={"name": "ok", "_csrf_token": token}).status_code == 200


def test_over_https_the_cookie_is_host_prefixed_and_secure(make_pages: PagesFactory) -> None:
    with TestClient(probe_app(make_pages(secure=True)), base_url="https://auth.test") as client:
        page = client.get("/probe")
        cookie = page.headers["set-cookie"]
        assert cookie.startswith("__Host-csrf=")
        assert "Secure" in cookie
        assert "Path=/" in cookie
        assert "Domain" not in cookie
        ok = client.post("/probe", data={"name": "s", "_csrf_token": csrf_token(page.text)})
        assert ok.status_code == 200


def test_hostile_values_are_escaped(make_pages: PagesFactory) -> None:
    hostile = '<script>alert("x")</script>'
    with TestClient(probe_app(make_pages(product_name='<img src=x onerror="alert(1)">'))) as client:
        page = client.get("/probe", params={"shown": hostile})
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "<img src=x" not in page.text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page.text


def test_the_language_switch_links_keep_the_query(browser: TestClient[Litestar]) -> None:
    page = browser.get("/probe", params={"shown": "a&b", "ui_locales": "pt-BR"})
    assert page.headers["content-language"] == "pt-BR"
    assert '<a href="/probe?shown=a%26b&amp;ui_locales=en" lang="en" hreflang="en">English</a>' in page.text
    assert '<span aria-current="true" lang="pt-BR">Português (Brasil)</span>' in page.text
    english = browser.get("/probe", params={"ui_locales": "en"}, headers={"Accept-Language": "pt-BR"})
    assert english.headers["content-language"] == "en"


def test_a_domain_error_is_an_html_page_with_retry_after(browser: TestClient[Litestar]) -> None:
    response = browser.get("/throttled", headers={"Accept-Language": "pt-BR,pt;q=0.9"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == STRICT_CSP
    assert "Tentativas demais" in response.text
    assert "Tente novamente em 5 segundos." in response.text


def test_error_pages_say_nothing_the_request_or_the_code_said(browser: TestClient[Litestar]) -> None:
    missing = browser.get("/missing")
    assert missing.status_code == 404
    assert "Page not found" in missing.text
    assert "/etc/passwd" not in missing.text
    broken = browser.get("/broken")
    assert broken.status_code == 500
    assert "Something went wrong" in broken.text
    assert "secret internal detail" not in broken.text
    assert "<a href" not in broken.text  # no language links, no link at all


def test_routes_outside_the_browser_router_keep_problem_json(browser: TestClient[Litestar]) -> None:
    response = browser.get("/api-like")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"

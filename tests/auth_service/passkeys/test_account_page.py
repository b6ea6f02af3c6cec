"""The passkey list of the account: rename and remove, only one's own, errors next to the field."""

from __future__ import annotations

import json

from tests.auth_service.conftest import AuthClient
from tests.auth_service.login.db import fetch
from tests.auth_service.passkeys.flow import (
    PASSWORD,
    AccountBrowser,
    authenticator,
    first_party_login_path,
    passkey_login,
    passkey_rows,
    sign_in,
)


def with_passkeys(auth: AuthClient, *names: str) -> AccountBrowser:
    user = auth.create_user("ana@example.com", PASSWORD, ["viewer"])
    sign_in(auth, user.id)
    account = AccountBrowser(auth)
    for name in names:
        account.register(authenticator(), name)
    return account


def test_rename_then_the_list_shows_the_new_name(auth: AuthClient) -> None:
    account = with_passkeys(auth, "Laptop")
    (row,) = passkey_rows(auth)
    answer = account.rename(str(row["id"]), "  Work\tlaptop\x07 ")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/account/passkeys?done=renamed"
    assert passkey_rows(auth)[0]["name"] == "Work laptop", "one line, no control characters"
    page = account.page("?done=renamed").text
    assert "Passkey renamed." in page
    assert 'value="Work laptop"' in page


def test_a_taken_or_empty_name_is_shown_next_to_its_field(auth: AuthClient) -> None:
    account = with_passkeys(auth, "Laptop", "Phone")
    laptop, _ = passkey_rows(auth)
    taken = account.rename(str(laptop["id"]), "Phone")
    assert taken.status_code == 409
    assert f'aria-describedby="error_{laptop["id"]}"' in taken.text
    assert "Another of your passkeys has this name." in taken.text
    empty = account.rename(str(laptop["id"]), " \n ")
    assert empty.status_code == 422
    assert "Give the passkey a name." in empty.text
    assert [r["name"] for r in passkey_rows(auth)] == ["Laptop", "Phone"]


def test_remove_and_the_passkey_logs_in_no_more(auth: AuthClient) -> None:
    user = auth.create_user("ana@example.com", PASSWORD, ["viewer"])
    sign_in(auth, user.id)
    account, device = AccountBrowser(auth), authenticator()
    account.register(device, "Laptop")
    (row,) = passkey_rows(auth)
    answer = account.remove(str(row["id"]))
    assert answer.status_code == 303
    assert answer.headers["location"] == "/account/passkeys?done=removed"
    assert passkey_rows(auth) == []
    assert "You have no passkeys yet." in account.page().text
    (event,) = fetch(auth, "SELECT details FROM audit_events WHERE action = 'passkey.remove'")
    assert json.loads(event["details"])["name"] == "Laptop"
    auth.http.cookies.clear()
    _, login_path = first_party_login_path(auth)
    assert passkey_login(auth, login_path, device).status_code == 400


def test_another_persons_passkey_can_be_neither_renamed_nor_removed(auth: AuthClient) -> None:
    with_passkeys(auth, "Ana's laptop")
    (ana_key,) = passkey_rows(auth)
    bia = auth.create_user("bia@example.com", PASSWORD, ["viewer"])
    sign_in(auth, bia.id)
    account = AccountBrowser(auth)
    assert "Ana&#39;s laptop" not in account.page().text
    assert account.rename(str(ana_key["id"]), "mine").status_code == 404
    assert account.remove(str(ana_key["id"])).status_code == 404
    assert passkey_rows(auth)[0]["name"] == "Ana's laptop"
    assert account.remove("not-a-uuid").status_code in (400, 404)


def test_the_page_is_a_hosted_page(auth: AuthClient) -> None:
    page = with_passkeys(auth, "Laptop").page()
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["content-language"] == "en"
    assert 'data-passkey="create"' in page.text
    assert "data-passkey-box hidden" in page.text
    portuguese = auth.http.get("/account/passkeys?ui_locales=pt-BR").text
    assert "Suas chaves de acesso" in portuguese

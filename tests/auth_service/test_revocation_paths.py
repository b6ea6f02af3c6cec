"""Every change that revokes records the right revocation, and the tokens it concerns stop working.

"Stop working" is checked where a user sees it: introspection (which reads PostgreSQL, the truth)
and this service's own API, whose verifier follows the revocation stream like any resource server
(``/api/1/users/me`` answers 401 within a second). The issue's cases: password reset, session
revocation and ``/oauth/revoke`` did nothing at the resource servers; deleting a client left its
live access tokens working; a role's scope change did not touch live tokens; a revoked token came
back in the leeway window (introspection said ``active`` with a past ``exp``); and a refresh racing
a revocation could mint a token nothing ever revoked.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from auth_service.operator_tasks import recover_admin
from tests.auth_service.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    AGENT_EMAIL,
    AGENT_PASSWORD,
    AuthClient,
    basic,
)
from tests.auth_service.revocation_stream import PUBLISHED_WITHIN, recorded, stream_entry
from tests.auth_service.test_refresh_and_revocation import INACTIVE, introspect, refresh
from tests.auth_service.test_token_grants import claims_of

NEW_PASSWORD = "an entirely different passphrase"


@pytest.fixture
def admin(seeded: AuthClient) -> dict[str, str]:
    return seeded.bearer(seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])


def agent_session(auth: AuthClient) -> dict[str, Any]:
    """A login whose access token is for this service's API and the customer API alike."""
    return auth.login(AGENT_EMAIL, AGENT_PASSWORD, resource=["auth", "customers"])


def user_id(token: str) -> str:
    return str(claims_of(token)["sub"])


def own_api_status(auth: AuthClient, token: str) -> int:
    return auth.http.get("/api/1/users/me", headers=auth.bearer(token)).status_code


def accepted(auth: AuthClient, token: str, introspector: dict[str, str]) -> None:
    assert introspect(auth, token, introspector)["active"] is True
    assert own_api_status(auth, token) == 200


def refused(auth: AuthClient, token: str, introspector: dict[str, str]) -> None:
    """Inactive at once (PostgreSQL), and refused by a stream-fed verifier within a second."""
    assert introspect(auth, token, introspector) == INACTIVE
    refused_by_the_api(auth, token)


def refused_by_the_api(auth: AuthClient, token: str) -> None:
    deadline = time.monotonic() + PUBLISHED_WITHIN
    while (response := auth.http.get("/api/1/users/me", headers=auth.bearer(token))).status_code != 401:
        assert time.monotonic() < deadline, f"/api/1/users/me still answers {response.status_code}"
        time.sleep(0.02)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def next_second() -> None:
    """Revocations by subject, client or role reach tokens issued at or before them, in whole
    seconds (``iat``): a token issued in the same second is refused too, so wait for the next."""
    time.sleep(1.02 - time.time() % 1)


# ------------------------------------------------------------------- accounts
def test_disabling_a_user_revokes_its_sessions_and_tokens(
    seeded: AuthClient, admin: dict[str, str], introspector: dict[str, str]
) -> None:
    session = agent_session(seeded)
    uid, sid = user_id(session["access_token"]), claims_of(session["access_token"])["sid"]
    seeded.http.post(f"/api/1/admin/users/{uid}/disable", headers=admin)
    assert introspect(seeded, session["access_token"], introspector) == INACTIVE
    stream_entry(seeded, "sub", uid)
    stream_entry(seeded, "sid", sid)


def test_deleting_a_user_revokes_its_tokens(
    seeded: AuthClient, admin: dict[str, str], introspector: dict[str, str]
) -> None:
    session = agent_session(seeded)
    uid = user_id(session["access_token"])
    assert seeded.http.delete(f"/api/1/admin/users/{uid}", headers=admin).status_code == 204
    assert introspect(seeded, session["access_token"], introspector) == INACTIVE
    stream_entry(seeded, "sub", uid)
    stream_entry(seeded, "sid", claims_of(session["access_token"])["sid"])


def test_an_admin_password_reset_revokes_every_token(
    seeded: AuthClient, admin: dict[str, str], introspector: dict[str, str]
) -> None:
    session = agent_session(seeded)
    uid = user_id(session["access_token"])
    reset = seeded.http.post(
        f"/api/1/admin/users/{uid}/password", json={"password": NEW_PASSWORD}, headers=admin
    )
    assert reset.status_code == 204, reset.text
    refused(seeded, session["access_token"], introspector)
    assert ("sub", uid) in recorded(seeded)


def test_changing_ones_own_password_keeps_this_session_and_ends_the_others(
    seeded: AuthClient, introspector: dict[str, str]
) -> None:
    current, other = agent_session(seeded), agent_session(seeded)
    change = seeded.http.post(
        "/api/1/users/me/password",
        json={"current_password": AGENT_PASSWORD, "new_password": NEW_PASSWORD},
        headers=seeded.bearer(current["access_token"]),
    )
    assert change.status_code == 204, change.text
    refused(seeded, other["access_token"], introspector)
    accepted(seeded, current["access_token"], introspector)
    assert refresh(seeded, current["refresh_token"]).status_code == 200
    assert recorded(seeded) == [("sid", claims_of(other["access_token"])["sid"])]  # not the subject


def test_recovering_an_admin_revokes_its_old_tokens(seeded: AuthClient) -> None:
    session = seeded.admin_login(ADMIN_EMAIL, ADMIN_PASSWORD)
    uid = user_id(session["access_token"])
    seeded.call(recover_admin, seeded.services.settings, ADMIN_EMAIL)
    assert ("sub", uid) in recorded(seeded)
    stream_entry(seeded, "sid", claims_of(session["access_token"])["sid"])
    refused_by_the_api(seeded, session["access_token"])


# ------------------------------------------------------------------- sessions
def test_an_admin_revoking_a_session_revokes_its_access_tokens(
    seeded: AuthClient, admin: dict[str, str], introspector: dict[str, str]
) -> None:
    session = agent_session(seeded)
    accepted(seeded, session["access_token"], introspector)
    sid = claims_of(session["access_token"])["sid"]
    assert seeded.http.delete(f"/api/1/admin/sessions/{sid}", headers=admin).status_code == 204
    refused(seeded, session["access_token"], introspector)
    assert recorded(seeded) == [("sid", sid)]


def test_oauth_revoke_of_an_access_token_revokes_it_everywhere(
    seeded: AuthClient, introspector: dict[str, str]
) -> None:
    session = agent_session(seeded)
    form = {"token": session["access_token"], "client_id": "first-party"}
    assert seeded.http.post("/oauth/revoke", data=form).status_code == 200
    refused(seeded, session["access_token"], introspector)
    assert recorded(seeded) == [("jti", claims_of(session["access_token"])["jti"])]


def test_oauth_revoke_of_a_refresh_token_revokes_the_sessions_access_tokens(
    seeded: AuthClient, introspector: dict[str, str]
) -> None:
    session = agent_session(seeded)
    form = {"token": session["refresh_token"], "client_id": "first-party"}
    assert seeded.http.post("/oauth/revoke", data=form).status_code == 200
    refused(seeded, session["access_token"], introspector)
    assert recorded(seeded) == [("sid", claims_of(session["access_token"])["sid"])]


# --------------------------------------------------------------------- roles
def test_losing_a_role_revokes_the_users_tokens_but_not_its_sessions(
    seeded: AuthClient, admin: dict[str, str], introspector: dict[str, str]
) -> None:
    session = agent_session(seeded)
    uid = user_id(session["access_token"])
    assert seeded.http.delete(f"/api/1/admin/users/{uid}/roles/agent", headers=admin).status_code == 204
    refused(seeded, session["access_token"], introspector)
    assert recorded(seeded) == [("sub", uid)]
    next_second()
    renewed = refresh(seeded, session["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    assert "roles" not in claims_of(renewed.json()["access_token"])  # the roles it has now


def test_replacing_roles_revokes_only_when_one_is_taken_away(
    seeded: AuthClient, admin: dict[str, str]
) -> None:
    uid = user_id(agent_session(seeded)["access_token"])
    widened = seeded.http.patch(
        f"/api/1/admin/users/{uid}", json={"roles": ["agent", "viewer"]}, headers=admin
    )
    assert widened.status_code == 200, widened.text
    assert recorded(seeded) == []  # nothing taken away: nothing to revoke
    narrowed = seeded.http.patch(f"/api/1/admin/users/{uid}", json={"roles": ["viewer"]}, headers=admin)
    assert narrowed.status_code == 200, narrowed.text
    assert recorded(seeded) == [("sub", uid)]


def test_a_role_losing_scopes_revokes_every_token_carrying_it(
    seeded: AuthClient, admin: dict[str, str], introspector: dict[str, str]
) -> None:
    session = agent_session(seeded)
    widened = seeded.http.patch(
        "/api/1/admin/roles/agent",
        json={"scopes": ["customers:delete", "customers:read", "customers:write"]},
        headers=admin,
    )
    assert widened.status_code == 200, widened.text
    accepted(seeded, session["access_token"], introspector)  # gaining scopes takes nothing away
    shrunk = seeded.http.patch("/api/1/admin/roles/agent", json={"scopes": ["customers:read"]}, headers=admin)
    assert shrunk.status_code == 200, shrunk.text
    refused(seeded, session["access_token"], introspector)
    assert recorded(seeded) == [("role", "agent")]
    next_second()
    renewed = refresh(seeded, session["refresh_token"], resource="customers")
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["scope"] == "customers:read"
    assert introspect(seeded, renewed.json()["access_token"], introspector)["active"] is True


# ------------------------------------------------------------------- clients
def test_deleting_a_client_revokes_its_live_access_tokens(
    seeded: AuthClient, admin: dict[str, str], introspector: dict[str, str]
) -> None:
    app = seeded.create_client(
        client_name="mobile app",
        grant_types=["password", "refresh_token"],
        token_endpoint_auth_method="none",
        scope="customers:read",
    )
    form = {"grant_type": "password", "client_id": app.client_id, "username": AGENT_EMAIL}
    user_token = seeded.token({**form, "password": AGENT_PASSWORD}).json()["access_token"]
    service = seeded.create_client(client_name="batch job", scope="customers:read")
    own = seeded.token(
        {"grant_type": "client_credentials"}, headers=basic(service.client_id, service.client_secret or "")
    )
    service_token = own.json()["access_token"]
    for client in (app, service):
        assert (
            seeded.http.delete(f"/api/1/admin/clients/{client.client_id}", headers=admin).status_code == 204
        )
    for token in (user_token, service_token):
        assert introspect(seeded, token, introspector) == INACTIVE  # was active: nothing revoked them
    stream_entry(seeded, "client", app.client_id)
    stream_entry(seeded, "client", service.client_id)


def test_narrowing_a_client_revokes_its_tokens_and_widening_does_not(
    seeded: AuthClient, admin: dict[str, str], introspector: dict[str, str]
) -> None:
    service = seeded.create_client(client_name="batch job", scope="customers:read customers:write")
    auth = basic(service.client_id, service.client_secret or "")

    def client_token() -> str:
        return str(seeded.token({"grant_type": "client_credentials"}, headers=auth).json()["access_token"])

    def patch(scope: str) -> None:
        answer = seeded.http.patch(
            f"/api/1/admin/clients/{service.client_id}", json={"scope": scope}, headers=admin
        )
        assert answer.status_code == 200, answer.text

    before = client_token()
    patch("customers:read customers:write customers:delete")  # wider: nothing to revoke
    assert introspect(seeded, before, introspector)["active"] is True
    patch("customers:read")  # narrower: its live tokens may carry customers:write
    assert introspect(seeded, before, introspector) == INACTIVE
    stream_entry(seeded, "client", service.client_id)
    next_second()
    assert introspect(seeded, client_token(), introspector)["active"] is True


def test_a_token_issued_in_the_same_second_after_a_revocation_is_not_refused(
    seeded: AuthClient, admin: dict[str, str], introspector: dict[str, str]
) -> None:
    """``iat`` is whole seconds and a client revocation refuses ``iat <= at``: the issuer, which
    follows its own stream, stamps a token issued just after it with the next second instead."""
    service = seeded.create_client(client_name="batch job", scope="customers:read customers:write")
    auth = basic(service.client_id, service.client_secret or "")
    patch = seeded.http.patch(
        f"/api/1/admin/clients/{service.client_id}", json={"scope": "customers:read"}, headers=admin
    )
    assert patch.status_code == 200
    feed = seeded.services.revocations.feed
    deadline = time.monotonic() + 5
    while feed.issued_after(service.client_id, service.client_id, []) is None:
        assert time.monotonic() < deadline, "the auth service's own feed sees the revocation"
        time.sleep(0.005)
    revoked_at = feed.issued_after(service.client_id, service.client_id, [])
    assert revoked_at is not None
    token = seeded.token({"grant_type": "client_credentials"}, headers=auth).json()["access_token"]
    assert claims_of(token)["iat"] > revoked_at
    assert introspect(seeded, token, introspector)["active"] is True


# ------------------------------------------------- the leeway and the race
def signed_like(auth: AuthClient, token: str, **claims: Any) -> str:
    """A token of ours like ``token`` with ``claims`` changed, signed with the active key (as the
    issuer itself would have signed it at another moment)."""
    payload = {**claims_of(token), **claims}
    signed: str = auth.services.signing_keys.keyring.signer.sign(payload)
    return signed


def test_a_revoked_token_stays_refused_in_the_leeway_window(
    seeded: AuthClient, introspector: dict[str, str]
) -> None:
    """The old bug: at ``exp + 5 s`` a revoked token was accepted again and introspected as active
    (its deny-list entry had expired at ``exp``, while verifiers accept until ``exp + leeway``)."""
    now = int(time.time())
    live = agent_session(seeded)["access_token"]
    expired = signed_like(seeded, live, jti="in-its-leeway", iat=now - 605, nbf=now - 605, exp=now - 5)
    accepted(seeded, expired, introspector)  # past exp, within the 30 s leeway: still valid
    form = {"token": expired, "client_id": "first-party"}
    assert seeded.http.post("/oauth/revoke", data=form).status_code == 200
    refused(seeded, expired, introspector)
    assert stream_entry(seeded, "jti", "in-its-leeway")["exp"] == str(now - 5)


def test_a_token_a_refresh_minted_while_its_session_was_revoked_is_refused(
    seeded: AuthClient, admin: dict[str, str], introspector: dict[str, str]
) -> None:
    """A refresh that read the session just before the revocation committed signs its token just
    after: the session's ``sid`` is revoked for good, so that token is refused too."""
    session = agent_session(seeded)
    sid = claims_of(session["access_token"])["sid"]
    assert seeded.http.delete(f"/api/1/admin/sessions/{sid}", headers=admin).status_code == 204
    later = int(time.time()) + 2
    raced = signed_like(seeded, session["access_token"], jti="raced", iat=later, nbf=later, exp=later + 600)
    refused(seeded, raced, introspector)


def test_a_token_a_refresh_minted_while_the_user_was_disabled_is_refused(
    seeded: AuthClient, admin: dict[str, str], introspector: dict[str, str]
) -> None:
    session = agent_session(seeded)
    seeded.http.post(f"/api/1/admin/users/{user_id(session['access_token'])}/disable", headers=admin)
    later = int(time.time()) + 2  # issued after the subject's revocation: only its session's sid reaches it
    raced = signed_like(seeded, session["access_token"], jti="raced", iat=later, nbf=later, exp=later + 600)
    assert introspect(seeded, raced, introspector) == INACTIVE

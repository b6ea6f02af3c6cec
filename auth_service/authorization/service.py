"""The authorization endpoint's decision: log in, consent, or answer the client with a code.

``authorize`` validates a request once (``parameters.py``); a page that must carry it stores it,
and only its id travels (``/login?request=``, ``/consent?request=``), each step calling ``decide``
again. A pushed request (RFC 9126, ``pushed.py``) is such a stored request, used once. A login is
needed without a live session, for ``prompt=login`` and past ``max_age`` (``max_age=0``: always),
unless this very request's login made the session; consent, for a third-party client whose
remembered consent does not cover the grant, or ``prompt=consent``; the second step, when a second
factor is due (``SecondFactors.due``; the login page when one must be set up). ``prompt=none``
turns each need into its error at the client. The grant: the identity scopes asked plus the
resource scopes asked that both the client and the person hold. The single sign-on of a
first-party app is one statement (``_single_sign_on``); an answered stored request is deleted
with its code written, in one statement too.
"""

from __future__ import annotations

import time
from uuid import UUID

import msgspec

from auth_service.audit.service import Actor
from auth_service.authorization.errors import AuthorizationError, RequestExpired, UntrustedRequest
from auth_service.authorization.outcomes import (
    SECOND_STEP_PATH,
    Answer,
    Pending,
    Ready,
    ToClient,
    ToPage,
    draft_of,
    grant_of,
    request_key,
)  # fmt: skip
from auth_service.authorization.parameters import (
    Query,
    Reply,
    trusted_reply,
    validate,
)
from auth_service.authorization.pushed import pushed_id
from auth_service.authorization.repository import AuthorizationRequestRepository, StoredRequest
from auth_service.browser_sessions.service import BrowserSession, BrowserSessions
from auth_service.browser_settings import LoginSettings
from auth_service.clients.directory import ClientDirectory
from auth_service.consents.service import Consents
from auth_service.factors.service import Due, SecondFactors
from auth_service.oidc.assurance import asked_acr
from auth_service.random_secrets import digest, new_secret
from auth_service.tokens.audience import AudienceResolver
from auth_service.tokens.codes import CodeRepository
from auth_service.tokens.fresh_codes import FreshCodes
from auth_service.users.repository import UserRecord, UserRepository
from shared.db.pool import PostgresPool

__all__ = ["SECOND_STEP_PATH", "Answer", "AuthorizationService", "Pending", "ToClient", "ToPage"]


class AuthorizationService:
    __slots__ = ("_audiences", "_clients", "_codes", "_consents", "_factors", "_fresh", "_issuer", "_pool",
                 "_repo", "_sessions", "_settings", "_users")  # fmt: skip

    def __init__(
        self,
        pool: PostgresPool,
        settings: LoginSettings,
        *,
        issuer: str,
        clients: ClientDirectory,
        audiences: AudienceResolver,
        consents: Consents,
        factors: SecondFactors,
        fresh: FreshCodes,
        sessions: BrowserSessions,
    ) -> None:
        """``fresh``: where the token endpoint of this process finds the codes issued here."""
        self._pool = pool
        self._sessions = sessions
        self._factors = factors
        self._fresh = fresh
        self._settings = settings
        self._issuer = issuer
        self._clients = clients
        self._audiences = audiences
        self._consents = consents
        self._repo = AuthorizationRequestRepository()
        self._codes = CodeRepository()
        self._users = UserRepository()

    async def authorize(self, query: Query, secret: str | None) -> Answer:
        """``UntrustedRequest`` (an error page) or where the browser goes next; ``secret``: the
        browser session cookie's."""
        if "request_uri" in query:
            return await self._use_pushed(query, await self._sessions.current(secret))
        ids = query.get("client_id") or ()
        client = await self._clients.get(ids[0]) if len(ids) == 1 else None
        reply = trusted_reply(query, client)
        assert client is not None  # trusted_reply refuses a request without one
        try:
            parameters = validate(query, client, reply, self._audiences)
        except AuthorizationError as exc:
            return self._error(reply, exc.error, exc.description)
        pending = Pending(StoredRequest(None, parameters, None), client)
        if secret and client.first_party and "login" not in parameters.prompt:
            return await self._single_sign_on(pending, secret)
        return await self._decide(pending, await self._sessions.current(secret))

    async def _single_sign_on(self, pending: Pending, secret: str) -> Answer:
        """A first-party app's request with a session cookie, nearly always answered with a code at
        once: the session is looked up and a code written for it in one statement, then the request
        is decided as any other; a code it does not give is discarded."""
        code = new_secret()
        code_digest, parameters = digest(code), pending.request.parameters
        draft = draft_of(pending, grant_of(parameters, pending.client, None))
        async with self._pool.acquire() as conn:
            made = await self._codes.create_in_session(
                conn, digest(secret), self._settings.session_idle_ttl, code_digest, draft,
                self._settings.authorization_code_ttl,
            )  # fmt: skip
        session, ready = (None, None) if made is None else (made.session, (code, code_digest, made))
        answer = await self._decide(pending, session, ready=ready)
        if made is not None and not (isinstance(answer, ToClient) and answer.params.get("code") == code):
            async with self._pool.acquire() as conn:
                await self._codes.discard(conn, code_digest)
        return answer

    async def _use_pushed(self, query: Query, session: BrowserSession | None) -> Answer:
        """RFC 9126 section 4: ``client_id`` and ``request_uri`` alone (every other parameter is
        ignored); the pushed request of that very client, used once. Anything else is an error
        page: without the pushed request, no redirect URI can be trusted."""
        ids, uris = query.get("client_id") or (), query.get("request_uri") or ()
        request_id = pushed_id(uris[0]) if len(uris) == 1 else None
        if len(ids) != 1 or request_id is None:
            raise UntrustedRequest
        async with self._pool.acquire() as conn:
            ttl = self._settings.authorization_request_ttl
            stored = await self._repo.use_pushed(conn, request_id, ids[0], ttl)
        client = await self._clients.get(ids[0]) if stored else None
        if stored is None or client is None:
            raise RequestExpired
        return await self._decide(Pending(stored, client), session)

    async def pending(self, request_id: str) -> Pending:
        """The stored request and its client, or ``RequestExpired``."""
        key = request_key(request_id)
        async with self._pool.acquire() as conn:
            stored = await self._repo.get(conn, key)
        client = await self._clients.get(stored.parameters.client_id) if stored else None
        if stored is None or stored.parameters.pushed or client is None:
            raise RequestExpired
        return Pending(stored, client)

    async def logged_in(
        self, request_id: str, session: BrowserSession, read: Pending | None = None
    ) -> Answer:
        """A login for this request just started ``session``: it satisfies prompt=login and max_age.
        ``read``: the request as the login read it. A code at once then writes nothing more; the
        login is recorded on the request only when a page (consent, second step) reads it back."""
        key = request_key(request_id)
        if read is None or read.request.id != key:
            return await self._decide(await self._mark_logged_in(key, session), session)
        answer = await self._decide(
            Pending(msgspec.structs.replace(read.request, logged_in_session=session.id), read.client), session
        )
        if isinstance(answer, ToPage):
            await self._mark_logged_in(key, session)
        return answer

    async def _mark_logged_in(self, key: UUID, session: BrowserSession) -> Pending:
        async with self._pool.acquire() as conn:
            stored = await self._repo.logged_in(conn, key, session.id)
        client = await self._clients.get(stored.parameters.client_id) if stored else None
        if stored is None or stored.parameters.pushed or client is None:
            raise RequestExpired
        return Pending(stored, client)

    async def decide(self, request_id: str, session: BrowserSession | None) -> Answer:
        return await self._decide(await self.pending(request_id), session)

    async def consent_scopes(self, pending: Pending, session: BrowserSession | None) -> list[str] | None:
        """What the consent page asks for; ``None`` when a login is needed first."""
        user = await self._user(session) if not self.needs_login(pending.request, session) else None
        return None if user is None else grant_of(pending.request.parameters, pending.client, user)

    async def consent(
        self, request_id: str, session: BrowserSession | None, *, allow: bool, actor: Actor
    ) -> Answer:
        """The consent page's answer: deny is ``access_denied`` at the client; allow remembers
        the grant and issues the code."""
        pending = await self.pending(request_id)
        grant = await self.consent_scopes(pending, session)
        if grant is None or session is None:
            return ToPage(f"/login?request={pending.request.id}")
        if not allow:
            return await self._refuse(pending.request, "access_denied", "The person did not allow access.")
        if await self._due(pending.request, session) is not None:
            return await self._decide(pending, session)  # to the second step first
        await self._consents.remember(session.user_id, pending.client.client_id, grant, actor)
        return await self._issue(pending, session, grant)

    def needs_login(self, stored: StoredRequest, session: BrowserSession | None) -> bool:
        if session is None:
            return True
        if stored.logged_in_session == session.id:
            return False
        max_age = stored.parameters.max_age
        too_old = max_age is not None and time.time() - session.auth_time >= max_age
        return "login" in stored.parameters.prompt or too_old

    async def _decide(
        self,
        pending: Pending,
        session: BrowserSession | None,
        *,
        ready: Ready | None = None,
    ) -> Answer:
        """A first-party app asks no consent, so the person's row is not read here: the code carries
        what the client may ask, and the token exchange keeps only the scopes the person holds (as the
        code's statement read them). A live session already means an active account."""
        stored, client = pending.request, pending.client
        prompt = stored.parameters.prompt
        live = session is not None and not self.needs_login(stored, session)
        user = await self._user(session) if live and not client.first_party else None
        if session is None or not live or (user is None and not client.first_party):
            if "none" in prompt:
                return await self._refuse(stored, "login_required", "The person is not logged in.")
            return ToPage(f"/login?request={await self._stored_id(stored)}")
        due = await self._due(stored, session)
        if due is not None:
            if "none" in prompt:
                error = "login_required" if due == "verify" else "interaction_required"
                return await self._refuse(stored, error, "The login needs a second factor.")
            path = SECOND_STEP_PATH if due == "verify" else "/login"
            return ToPage(f"{path}?request={await self._stored_id(stored)}")
        grant = grant_of(stored.parameters, client, user)
        if user is not None and (
            "consent" in prompt or not await self._consents.covers(user.id, client.client_id, grant)
        ):
            if "none" in prompt:
                return await self._refuse(stored, "consent_required", "The person has not allowed this app.")
            return ToPage(f"/consent?request={await self._stored_id(stored)}")
        return await self._issue(pending, session, grant, ready)

    async def _due(self, stored: StoredRequest, session: BrowserSession) -> Due | None:
        asked = asked_acr(stored.parameters.acr_values)
        return await self._factors.due(session.user_id, acr=session.acr, asked=asked, known=session.assurance)

    async def _stored_id(self, stored: StoredRequest) -> UUID:
        """The request's id, storing it first if a page must carry it (the only time it is written)."""
        if stored.id is not None:
            return stored.id
        async with self._pool.acquire() as conn:
            return await self._repo.create(conn, stored.parameters, self._settings.authorization_request_ttl)

    async def _user(self, session: BrowserSession | None) -> UserRecord | None:
        if session is None:
            return None
        async with self._pool.acquire() as conn:
            user = await self._users.by_id(conn, session.user_id)
        return user if user is not None and user.active else None

    async def _issue(
        self, pending: Pending, session: BrowserSession, grant: list[str], ready: Ready | None = None
    ) -> Answer:
        """The code: the one written ahead with the session (``ready``) when it grants the same."""
        if ready is not None and ready[2].code.scopes == grant:
            code, code_digest, made = ready
            self._fresh.keep(code_digest, made.code, made.person)
            return self._answer(pending.request.parameters.reply, {"code": code})
        code = new_secret()
        code_digest, new = digest(code), draft_of(pending, grant).for_session(session)
        async with self._pool.acquire() as conn:
            person = await self._codes.create(
                conn, code_digest, new, self._settings.authorization_code_ttl, taking=pending.request.id
            )
        if person is None:  # its stored request was answered (or expired) meanwhile: one answer only
            raise RequestExpired
        self._fresh.keep(code_digest, new, person)
        return self._answer(pending.request.parameters.reply, {"code": code})

    async def _refuse(self, stored: StoredRequest, error: str, description: str) -> Answer:
        if stored.id is not None:
            async with self._pool.acquire() as conn:
                await self._repo.take(conn, stored.id)
        return self._error(stored.parameters.reply, error, description)

    def _error(self, reply: Reply, error: str, description: str) -> ToClient:
        return self._answer(reply, {"error": error, "error_description": description})

    def _answer(self, reply: Reply, params: dict[str, str]) -> ToClient:
        state = {"state": reply.state} if reply.state is not None else {}
        return ToClient(reply, {**params, **state, "iss": self._issuer})

"""The authorization endpoint's decision: log in, consent, or answer the client with a code.

``authorize`` validates a request once (``parameters.py``). When it needs a login the answer is the
login form itself (``ToLogin``), which carries the request back as it was sent; the login POST
checks it again (``carried``) and nothing is stored. A page after the login that must carry it
stores it, and only its id travels (``/consent?request=``, ``stored_requests.py``), each step
calling ``decide`` again; a pushed request (RFC 9126) is such a stored request, used once. A login
is needed without a live session, for ``prompt=login`` and past ``max_age`` (``max_age=0``: always),
unless this very request's login made the session; consent, for a third-party client whose
remembered consent does not cover the grant, or ``prompt=consent``; the second step, when a second
factor is due (``SecondFactors.due``; the login page when one must be set up). ``prompt=none``
turns each need into its error at the client. The grant: the identity scopes asked plus the
resource scopes asked that both the client and the person hold. The single sign-on of a
first-party app is one statement (``_single_sign_on``); an answered stored request is deleted
with its code written, in one statement too.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from auth_service.audit.service import Actor
from auth_service.authorization.errors import AuthorizationError, RequestExpired
from auth_service.authorization.outcomes import (
    SECOND_STEP_PATH,
    Answer,
    Pending,
    Ready,
    ToClient,
    ToLogin,
    ToPage,
    draft_of,
    grant_of,
    needs_login,
    request_key,
)
from auth_service.authorization.parameters import (
    Query,
    Reply,
    carried_query,
    parse_carried,
    trusted_reply,
    validate,
)
from auth_service.authorization.repository import StoredRequest
from auth_service.authorization.stored_requests import StoredRequests
from auth_service.browser_sessions.service import BrowserSession, BrowserSessions
from auth_service.browser_settings import LoginSettings
from auth_service.clients.directory import ClientDirectory
from auth_service.consents.service import Consents
from auth_service.factors.service import Due, SecondFactors
from auth_service.oidc.assurance import asked_acr
from auth_service.random_secrets import digest, new_secret
from auth_service.settings import OAuthSettings
from auth_service.tokens.audience import AudienceResolver
from auth_service.tokens.codes import CodeRepository
from auth_service.tokens.fresh_codes import FreshCodes
from auth_service.users.repository import UserRecord, UserRepository
from shared.db.pool import PostgresPool

__all__ = ["SECOND_STEP_PATH", "Answer", "AuthorizationService", "Pending", "ToClient", "ToLogin", "ToPage"]


class AuthorizationService:
    __slots__ = ("_audiences", "_clients", "_codes", "_consents", "_factors", "_fresh", "_issuer", "_limits",
                 "_pool", "_requests", "_sessions", "_settings", "_users")  # fmt: skip

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
        limits: OAuthSettings,
    ) -> None:
        """``fresh``: where the token endpoint of this process finds the codes issued here;
        ``limits``: the bounds of a request a login form carries back."""
        self._limits = limits
        self._pool = pool
        self._sessions = sessions
        self._factors = factors
        self._fresh = fresh
        self._settings = settings
        self._issuer = issuer
        self._clients = clients
        self._audiences = audiences
        self._consents = consents
        self._requests = StoredRequests(pool, clients, ttl=settings.authorization_request_ttl)
        self._codes = CodeRepository()
        self._users = UserRepository()

    async def authorize(
        self, query: Query, secret: str | None, *, as_sent: str | None = None
    ) -> Answer | ToLogin:
        """``UntrustedRequest`` (an error page) or where the browser goes next; ``secret``: the
        browser session cookie's. A login needed for a request not stored is the form itself, which
        carries ``as_sent`` (the query string ``query`` was read from) or else ``query`` encoded."""
        if "request_uri" in query:
            pushed = await self._requests.use_pushed(query)
            return await self._decide(pushed, await self._sessions.current(secret))
        checked = await self._checked(query)
        if isinstance(checked, ToClient):
            return checked
        prompt, session = checked.request.parameters.prompt, None
        if secret and checked.client.first_party and "login" not in prompt:
            answer = await self._single_sign_on(checked, secret)
            if answer is not None:
                return answer
        elif secret:
            session = await self._sessions.current(secret)
        if "none" not in prompt and (session is None or needs_login(checked.request, session)):
            return ToLogin(checked, as_sent or carried_query(query))
        return await self._decide(checked, session)

    async def carried(self, encoded: str) -> Pending:
        """The request a login form carries back (``ToLogin``), checked again as the authorization
        endpoint checked it: it is what the browser says, as that endpoint's query was. It is
        ``RequestExpired`` when it no longer passes (a client changed meanwhile)."""
        limits = self._limits
        query = parse_carried(encoded, limits.oauth_max_params, limits.oauth_max_param_chars)
        checked = None if "request_uri" in query else await self._checked(query)
        if not isinstance(checked, Pending):
            raise RequestExpired
        return checked

    async def continued(self, request_id: str | None, carried: str | None) -> Pending | None:
        """The request a login form goes on with: the stored one it names, else the one it carries;
        ``None`` when it has neither."""
        if request_id:
            return await self.pending(request_id)
        return await self.carried(carried) if carried else None

    async def _checked(self, query: Query) -> Pending | ToClient:
        """The request validated (not stored), or its error at the client."""
        ids = query.get("client_id") or ()
        client = await self._clients.get(ids[0]) if len(ids) == 1 else None
        reply = trusted_reply(query, client)
        assert client is not None  # trusted_reply refuses a request without one
        try:
            parameters = validate(query, client, reply, self._audiences)
        except AuthorizationError as exc:
            return self._error(reply, exc.error, exc.description)
        return Pending(StoredRequest(None, parameters, None), client)

    async def _single_sign_on(self, pending: Pending, secret: str) -> Answer | None:
        """A first-party app's request with a session cookie, nearly always answered with a code at
        once: the session is looked up and a code written for it in one statement, then the request
        is decided as any other; a code it does not give is discarded. ``None``: no live session,
        or one older than ``max_age`` allows."""
        code = new_secret()
        code_digest, parameters = digest(code), pending.request.parameters
        draft = draft_of(pending, grant_of(parameters, pending.client, None))
        async with self._pool.acquire() as conn:
            made = await self._codes.create_in_session(
                conn, digest(secret), self._settings.session_idle_ttl, code_digest, draft,
                self._settings.authorization_code_ttl,
            )  # fmt: skip
        if made is None:
            return None
        stale = needs_login(pending.request, made.session)  # max_age: the login form instead
        answer = None if stale else await self._decide(pending, made.session, ready=(code, code_digest, made))
        if not (isinstance(answer, ToClient) and answer.params.get("code") == code):
            async with self._pool.acquire() as conn:
                await self._codes.discard(conn, code_digest)
        return answer

    async def pending(self, request_id: str) -> Pending:
        """The stored request and its client, or ``RequestExpired``."""
        return await self._requests.pending(request_id)

    async def logged_in(self, request: str | Pending, session: BrowserSession) -> Answer:
        """A login for this request just started ``session``: it satisfies prompt=login and max_age.
        ``request``: the stored request's id, or the request as the login read it (stored or
        carried). A code at once then writes nothing more; the login is recorded with the request
        only when a page (consent, second step) reads it back."""
        if isinstance(request, str):
            return await self._decide(
                await self._requests.logged_in(request_key(request), session.id), session
            )
        marked = msgspec.structs.replace(request.request, logged_in_session=session.id)
        answer = await self._decide(Pending(marked, request.client), session)
        if isinstance(answer, ToPage) and request.request.id is not None:
            await self._requests.logged_in(request.request.id, session.id)
        return answer

    async def store(self, pending: Pending) -> UUID:
        """The request's id, storing a carried one (the second step carries it by id)."""
        return await self._requests.store(pending.request)

    async def decide(self, request_id: str, session: BrowserSession | None) -> Answer:
        return await self._decide(await self.pending(request_id), session)

    async def consent_scopes(self, pending: Pending, session: BrowserSession | None) -> list[str] | None:
        """What the consent page asks for; ``None`` when a login is needed first."""
        user = await self._user(session) if not needs_login(pending.request, session) else None
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
        live = session is not None and not needs_login(stored, session)
        user = await self._user(session) if live and not client.first_party else None
        if session is None or not live or (user is None and not client.first_party):
            if "none" in prompt:
                return await self._refuse(stored, "login_required", "The person is not logged in.")
            return ToPage(f"/login?request={await self._requests.store(stored)}")
        due = await self._due(stored, session)
        if due is not None:
            if "none" in prompt:
                error = "login_required" if due == "verify" else "interaction_required"
                return await self._refuse(stored, error, "The login needs a second factor.")
            path = SECOND_STEP_PATH if due == "verify" else "/login"
            return ToPage(f"{path}?request={await self._requests.store(stored)}")
        grant = grant_of(stored.parameters, client, user)
        if user is not None and (
            "consent" in prompt or not await self._consents.covers(user.id, client.client_id, grant)
        ):
            if "none" in prompt:
                return await self._refuse(stored, "consent_required", "The person has not allowed this app.")
            return ToPage(f"/consent?request={await self._requests.store(stored)}")
        return await self._issue(pending, session, grant, ready)

    async def _due(self, stored: StoredRequest, session: BrowserSession) -> Due | None:
        asked = asked_acr(stored.parameters.acr_values)
        return await self._factors.due(session.user_id, acr=session.acr, asked=asked, known=session.assurance)

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
        await self._requests.take(stored)
        return self._error(stored.parameters.reply, error, description)

    def _error(self, reply: Reply, error: str, description: str) -> ToClient:
        return self._answer(reply, {"error": error, "error_description": description})

    def _answer(self, reply: Reply, params: dict[str, str]) -> ToClient:
        state = {"state": reply.state} if reply.state is not None else {}
        return ToClient(reply, {**params, **state, "iss": self._issuer})

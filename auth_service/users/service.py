"""Account rules: creation under the password policy, updates, disabling, passwords, deletion.

Every change by an admin is audited with the actor and source IP. Disabling or deleting a user and
resetting its password end every session and revoke every access token issued to it so far;
changing one's own password ends the other sessions; losing a role revokes the account's access
tokens (its sessions go on, and their next refresh carries the roles it has now). Each revocation
is recorded in the transaction of the change (``Revoker``). Roles given
to an account (at creation or by replacing its roles) are bounded by the actor's own powers: it
must hold every scope they add. Disabling, deleting or demoting an account runs under the
last-admin rule (``LastAdminRule``), so nobody locks the organisation out of its own identity
provider.
"""

from __future__ import annotations

import base64
from uuid import UUID

from auth_service.audit.service import Actor, AuditTrail
from auth_service.errors import InvalidField, UserNotFound, WeakPassword, WrongPassword
from auth_service.passwords.hashing import PasswordHashing, normalise_password
from auth_service.passwords.policy import PasswordPolicy, PasswordRejected
from auth_service.powers.service import PowersService
from auth_service.revocations.service import Revoker
from auth_service.roles.repository import RoleRepository
from auth_service.tokens.sessions import SessionService
from auth_service.users.account_mail import AccountMail, NoAccountMail
from auth_service.users.administrators import LastAdminRule
from auth_service.users.emails import InvalidEmail, normalise_email
from auth_service.users.profiles import new_profile, updated_profile
from auth_service.users.repository import UserRecord, UserRepository
from auth_service.users.schemas import User, UserCreate, UserPage, UserUpdate
from shared.db.pool import Connection, PostgresPool

__all__ = ["UserService", "to_user"]


def to_user(record: UserRecord) -> User:
    return User(
        id=record.id,
        email=record.email,
        status=record.status,  # type: ignore[arg-type]
        roles=record.roles,
        scopes=record.scopes,
        created_at=record.created_at,
        updated_at=record.updated_at,
        last_login_at=record.last_login_at,
        password_changed_at=record.password_changed_at,
        email_verified=record.email_verified,
        name=record.name,
        given_name=record.given_name,
        family_name=record.family_name,
        locale=record.locale,
    )


def _email(value: str) -> str:
    try:
        return normalise_email(value)
    except InvalidEmail as exc:
        raise InvalidField("email", str(exc)) from None


class UserService:
    __slots__ = (
        "_admins",
        "_audit",
        "_hashing",
        "_mail",
        "_policy",
        "_pool",
        "_powers",
        "_revoker",
        "_roles",
        "_sessions",
        "_users",
    )

    def __init__(
        self,
        pool: PostgresPool,
        hashing: PasswordHashing,
        policy: PasswordPolicy,
        sessions: SessionService,
        revoker: Revoker,
        audit: AuditTrail,
    ) -> None:
        self._pool = pool
        self._hashing = hashing
        self._policy = policy
        self._sessions = sessions
        self._revoker = revoker
        self._audit = audit
        self._users = UserRepository()
        self._roles = RoleRepository()
        self._powers = PowersService()
        self._admins = LastAdminRule()
        self._mail: AccountMail = NoAccountMail()

    def send_account_mail_with(self, mail: AccountMail) -> None:
        """Registration, a changed address and password changes mail through ``mail`` from now on."""
        self._mail = mail

    async def _acceptable_password(self, password: str, email: str, field: str = "password") -> str:
        try:
            normalised = await self._policy.check(password, email)
        except PasswordRejected as exc:
            raise WeakPassword(field, str(exc)) from None
        return await self._hashing.hash(normalised)

    async def _known_roles(self, conn: Connection, roles: list[str]) -> list[str]:
        wanted = sorted(set(roles))
        unknown = set(wanted) - await self._roles.existing(conn, wanted)
        if unknown:
            raise InvalidField("roles", f"No such role: {', '.join(sorted(unknown))}.")
        return wanted

    async def _require_grantable(self, conn: Connection, actor: Actor, roles: set[str]) -> None:
        """The actor holds every scope the ``roles`` it hands out grant (checked in its transaction)."""
        if roles:
            scopes = await self._roles.scopes_of(conn, sorted(roles))
            (await self._powers.of(conn, actor)).require_scopes(scopes, "roles")

    async def _record(self, conn: Connection, user_id: UUID) -> UserRecord:
        record = await self._users.by_id(conn, user_id)
        if record is None:
            raise UserNotFound()
        return record

    async def get(self, user_id: UUID) -> User:
        async with self._pool.acquire() as conn:
            return to_user(await self._record(conn, user_id))

    async def active_user(self, subject: str) -> User | None:
        """The account a token's ``sub`` names while it exists and is active; ``None`` otherwise
        (a client's ``sub`` is not a user id at all)."""
        record = await self.active_record(subject)
        return None if record is None else to_user(record)

    async def active_record(self, subject: str) -> UserRecord | None:
        """``active_user`` as the stored record (its profile claims: ``oidc/claims.py``)."""
        try:
            user_id = UUID(subject)
        except ValueError:
            return None
        async with self._pool.acquire() as conn:
            record = await self._users.by_id(conn, user_id)
        return record if record is not None and record.active else None

    async def page(self, cursor: str | None, limit: int) -> UserPage:
        after = None
        if cursor:
            try:
                after = base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
            except (ValueError, UnicodeDecodeError):
                raise InvalidField("cursor", "The cursor is not one this API gave out.") from None
        async with self._pool.acquire() as conn:
            records = await self._users.page(conn, after, limit + 1)
        items = [to_user(r) for r in records[:limit]]
        next_cursor = None
        if len(records) > limit:
            next_cursor = base64.urlsafe_b64encode(items[-1].email.encode()).decode().rstrip("=")
        return UserPage(items=items, next_cursor=next_cursor)

    async def create(self, data: UserCreate, actor: Actor, *, action: str = "user.create") -> User:
        """An actor creates an account: the roles' scopes must all be ones it holds itself."""
        return await self._create(data, actor, action, bounded=True)

    async def register(self, data: UserCreate, actor: Actor) -> User:
        """Self-registration: the roles are the registration rule's (``SelfService``), not a grant."""
        return await self._create(data, actor, "user.register", bounded=False)

    async def _create(self, data: UserCreate, actor: Actor, action: str, *, bounded: bool) -> User:
        email = _email(data.email)
        password_hash = await self._acceptable_password(data.password, email)
        async with self._pool.acquire() as conn, conn.transaction():
            roles = await self._known_roles(conn, data.roles)
            if bounded and roles:
                await self._powers.lock_administration(conn)
                await self._require_grantable(conn, actor, set(roles))
            user_id = await self._users.insert(conn, email, password_hash, roles, new_profile(data))
            if not bounded and not data.email_verified:  # self-registration: prove the address
                await self._mail.email_to_verify(conn, user_id, email, data.locale)
            await self._audit.record(
                action, actor, target_type="user", target_id=str(user_id), details={"roles": roles}, conn=conn
            )
            return to_user(await self._record(conn, user_id))

    async def update(self, user_id: UUID, data: UserUpdate, actor: Actor) -> User:
        email = _email(data.email) if data.email is not None else None
        async with self._pool.acquire() as conn, conn.transaction():
            guard = await self._admins.guard(conn)
            before = await self._record(conn, user_id)
            roles = None
            if data.roles is not None:
                roles = await self._known_roles(conn, data.roles)
                await self._require_grantable(conn, actor, set(roles) - set(before.roles))
            await self._users.update(conn, user_id, email=email, status=data.status, roles=roles)
            profile, profile_changes = updated_profile(before, data, email)
            if profile_changes:
                await self._users.set_profile(conn, user_id, profile)
            if email is not None and email != before.email and not profile.email_verified:
                await self._mail.email_to_verify(conn, user_id, email, profile.locale)
            await guard.check()  # before revoking: a refused change must not end the sessions
            if data.status == "disabled" and before.active:
                await self._sessions.end_account(conn, user_id, "user_disabled")
            elif roles is not None and set(before.roles) - set(roles):
                await self._revoker.subject(conn, str(user_id))
            changes = {
                k: v
                for k, v in {"email": email, "status": data.status, "roles": roles}.items()
                if v is not None
            } | ({"profile": profile_changes} if profile_changes else {})
            await self._audit.record(
                "user.update", actor, target_type="user", target_id=str(user_id), details=changes, conn=conn
            )
            return to_user(await self._record(conn, user_id))

    async def delete(self, user_id: UUID, actor: Actor) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            guard = await self._admins.guard(conn)
            user = await self._record(conn, user_id)
            await guard.check(without=user_id)
            await self._sessions.end_account(conn, user_id, "user_deleted")
            await self._users.delete(conn, user_id)
            await self._audit.record(
                "user.delete",
                actor,
                target_type="user",
                target_id=str(user_id),
                details={"email": user.email},
                conn=conn,
            )

    async def reset_password(self, user_id: UUID, password: str, actor: Actor) -> None:
        """An admin sets a new password: every session of the user ends. Whoever knows the new
        password holds the account's scopes, so the actor must hold them all already."""
        async with self._pool.acquire() as conn:
            user = await self._record(conn, user_id)
        password_hash = await self._acceptable_password(password, user.email)
        async with self._pool.acquire() as conn, conn.transaction():
            user = await self._record(conn, user_id)
            (await self._powers.of(conn, actor)).require_scopes(user.scopes, "password")
            if not await self._users.set_password(conn, user_id, password_hash):
                raise UserNotFound()
            await self._sessions.end_account(conn, user_id, "password_reset")
            await self._mail.password_changed(conn, user_id)
            await self._audit.record(
                "user.password_reset", actor, target_type="user", target_id=str(user_id), conn=conn
            )

    async def change_password(
        self, user_id: UUID, current: str, new: str, actor: Actor, keep_session: UUID | None
    ) -> None:
        """The user changes their own password: other sessions end, this one goes on."""
        async with self._pool.acquire() as conn:
            user = await self._record(conn, user_id)
        current_ok = len(current) <= 1024 and await self._hashing.verify(
            user.password_hash, normalise_password(current)
        )
        if not current_ok:
            await self._audit.record(
                "user.password_change", actor, outcome="failure", target_type="user", target_id=str(user_id)
            )
            raise WrongPassword()
        password_hash = await self._acceptable_password(new, user.email, field="new_password")
        async with self._pool.acquire() as conn, conn.transaction():
            await self._users.set_password(conn, user_id, password_hash)
            await self._sessions.end_others(conn, user_id, "password_changed", keep_session)
            await self._mail.password_changed(conn, user_id)
            await self._audit.record(
                "user.password_change", actor, target_type="user", target_id=str(user_id), conn=conn
            )

    async def administrator_exists(self) -> bool:
        """Whether some active account holds every admin scope (``users bootstrap-admin``'s test)."""
        async with self._pool.acquire() as conn:
            return await self._admins.administrator_exists(conn)

"""The passkey tables (asyncpg only): credentials, user handles and ceremony challenges.

Three statements carry the security rules so that no race can get around them: ``take_challenge``
deletes the row it returns and ``spend_login_challenge_with`` inserts the digest of a login
challenge under its primary key (either way a challenge answers once, whoever answers first), and
``use`` writes the new signature counter only if it went up (or both are 0, an authenticator that
does not count), so a cloned authenticator's assertion finds no row to update and two concurrent
assertions with the same counter cannot both pass.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec
from asyncpg import Connection

from auth_service.passkeys.errors import PasskeyExists, PasskeyNameTaken
from auth_service.passkeys.relying_party import KnownCredential, NewCredential

__all__ = ["Challenge", "Passkey", "PasskeyRepository", "StoredCredential"]

_PASSKEY_COLUMNS = "id, name, created_at, last_used_at, backup_eligible, backed_up, transports, aaguid"
_NEW_HANDLE = (
    "INSERT INTO webauthn_user_handles (user_id, handle) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING"
)
_HANDLE = "SELECT handle FROM webauthn_user_handles WHERE user_id = $1"
_KNOWN = "SELECT credential_id, transports FROM passkeys WHERE user_id = $1 ORDER BY created_at"
_LIST = f"SELECT {_PASSKEY_COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"  # noqa: S608
# The count and the insert in one statement: a person cannot pass the limit by asking twice in a row.
_INSERT = f"""
INSERT INTO passkeys (user_id, credential_id, public_key, sign_count, transports, aaguid,
                      backup_eligible, backed_up, name)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9
WHERE (SELECT count(*) FROM passkeys WHERE user_id = $1) < $10
RETURNING {_PASSKEY_COLUMNS}
"""  # noqa: S608
_RENAME = "UPDATE passkeys SET name = $3 WHERE id = $1 AND user_id = $2"
_REMOVE = "DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name"
_REMOVE_ALL = "DELETE FROM passkeys WHERE user_id = $1"
# Only an active account's credential logs anyone in; the owner's handle is checked against the
# assertion's userHandle.
_USE = """
UPDATE passkeys SET sign_count = $2, backed_up = $3, last_used_at = now()
WHERE id = $1 AND ($2 > sign_count OR ($2 = 0 AND sign_count = 0))
"""
_NEW_CHALLENGE = """
INSERT INTO webauthn_challenges (digest, purpose, challenge, user_id, browser_session_id, expires_at)
VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))
"""
_TAKE_CHALLENGE = """
DELETE FROM webauthn_challenges WHERE digest = $1
RETURNING purpose, challenge, user_id, browser_session_id, expires_at > now() AS live
"""
_DROP_CHALLENGE = "DELETE FROM webauthn_challenges WHERE digest = $1"
# The credential an assertion names ($2), of an active account, with its owner's handle.
_CREDENTIAL = """
    SELECT p.id, p.user_id, p.name, p.public_key, p.sign_count, p.backup_eligible, h.handle AS user_handle
    FROM passkeys p
    JOIN users u ON u.id = p.user_id AND u.status = 'active'
    JOIN webauthn_user_handles h ON h.user_id = p.user_id
    WHERE p.credential_id = $2
"""
_CREDENTIAL_COLUMNS = "c.id, c.user_id, c.name, c.public_key, c.sign_count, c.backup_eligible, c.user_handle"
# An assertion's two reads in one round trip: its challenge taken, with the credential it names.
_TAKE_WITH_CREDENTIAL = f"""
WITH taken AS (
    DELETE FROM webauthn_challenges WHERE digest = $1
    RETURNING purpose, challenge, user_id, browser_session_id, expires_at > now() AS live
), credential AS ({_CREDENTIAL})
SELECT t.purpose, t.challenge, t.user_id AS challenge_user_id, t.browser_session_id, t.live,
       {_CREDENTIAL_COLUMNS}
FROM taken t LEFT JOIN credential c ON true
"""  # noqa: S608
# A passwordless login's two steps in one round trip: its challenge spent (``fresh`` is false when
# an answer spent it before), with the credential it names.
_SPEND_WITH_CREDENTIAL = f"""
WITH spent AS (
    INSERT INTO webauthn_spent_challenges (digest, expires_at) VALUES ($1, to_timestamp($3))
    ON CONFLICT (digest) DO NOTHING
    RETURNING true AS fresh
), credential AS ({_CREDENTIAL})
SELECT EXISTS (SELECT 1 FROM spent) AS fresh, {_CREDENTIAL_COLUMNS}
FROM (SELECT 1) one LEFT JOIN credential c ON true
"""  # noqa: S608


class Passkey(msgspec.Struct, frozen=True):
    """A credential as its owner sees it on the account page (never its key)."""

    id: UUID
    name: str
    created_at: datetime
    last_used_at: datetime | None
    backup_eligible: bool
    """A synced passkey (iCloud Keychain, Google Password Manager...) rather than one bound to a device."""
    backed_up: bool
    transports: list[str]
    aaguid: UUID


class StoredCredential(msgspec.Struct, frozen=True):
    """What an assertion is checked against."""

    id: UUID
    user_id: UUID
    name: str
    public_key: bytes
    sign_count: int
    backup_eligible: bool
    user_handle: bytes


class Challenge(msgspec.Struct, frozen=True):
    purpose: str
    challenge: bytes
    user_id: UUID | None
    browser_session_id: UUID | None
    live: bool


class PasskeyRepository:
    __slots__ = ()

    async def user_handle(self, conn: Connection, user_id: UUID, new: bytes) -> bytes:
        """The person's handle, ``new`` becoming it if they have none yet."""
        await conn.execute(_NEW_HANDLE, user_id, new)
        handle: bytes = await conn.fetchval(_HANDLE, user_id)
        return handle

    async def known(self, conn: Connection, user_id: UUID) -> list[KnownCredential]:
        return [
            KnownCredential(bytes(r["credential_id"]), list(r["transports"]))
            for r in await conn.fetch(_KNOWN, user_id)
        ]

    async def of_user(self, conn: Connection, user_id: UUID) -> list[Passkey]:
        return [Passkey(**dict(r)) for r in await conn.fetch(_LIST, user_id)]

    async def insert(
        self, conn: Connection, user_id: UUID, credential: NewCredential, name: str, limit: int
    ) -> Passkey | None:
        """The stored passkey, ``None`` when the person holds ``limit`` already; ``PasskeyExists``
        or ``PasskeyNameTaken`` on a duplicate."""
        try:
            row = await conn.fetchrow(
                _INSERT,
                user_id,
                credential.credential_id,
                credential.public_key,
                credential.sign_count,
                credential.transports,
                credential.aaguid,
                credential.backup_eligible,
                credential.backed_up,
                name,
                limit,
            )
        except asyncpg.UniqueViolationError as exc:
            raise (PasskeyNameTaken if "name" in (exc.constraint_name or "") else PasskeyExists)() from None
        return Passkey(**dict(row)) if row is not None else None

    async def rename(self, conn: Connection, user_id: UUID, passkey_id: UUID, name: str) -> bool:
        try:
            return await conn.execute(_RENAME, passkey_id, user_id, name) == "UPDATE 1"
        except asyncpg.UniqueViolationError:
            raise PasskeyNameTaken() from None

    async def remove(self, conn: Connection, user_id: UUID, passkey_id: UUID) -> str | None:
        """The removed passkey's name, ``None`` if the person has no such passkey."""
        name: str | None = await conn.fetchval(_REMOVE, passkey_id, user_id)
        return name

    async def remove_all(self, conn: Connection, user_id: UUID) -> int:
        """Every passkey of the person (an admin's factor reset); how many there were."""
        return int((await conn.execute(_REMOVE_ALL, user_id)).rsplit(" ", 1)[-1])

    async def use(self, conn: Connection, passkey_id: UUID, sign_count: int, backed_up: bool) -> bool:
        """Records an assertion; ``False`` when the counter did not go up (a cloned authenticator)."""
        return await conn.execute(_USE, passkey_id, sign_count, backed_up) == "UPDATE 1"

    async def new_challenge(
        self,
        conn: Connection,
        digest: bytes,
        *,
        purpose: str,
        challenge: bytes,
        user_id: UUID | None,
        browser_session_id: UUID | None,
        ttl: int,
    ) -> None:
        await conn.execute(_NEW_CHALLENGE, digest, purpose, challenge, user_id, browser_session_id, ttl)

    async def take_challenge(self, conn: Connection, digest: bytes) -> Challenge | None:
        row = await conn.fetchrow(_TAKE_CHALLENGE, digest)
        return Challenge(**dict(row)) if row is not None else None

    async def take_challenge_with(
        self, conn: Connection, digest: bytes, credential_id: bytes
    ) -> tuple[Challenge | None, StoredCredential | None]:
        """The challenge taken (single use) and the credential ``credential_id`` of an active account."""
        row = await conn.fetchrow(_TAKE_WITH_CREDENTIAL, digest, credential_id)
        if row is None:
            return None, None
        v = dict(row)
        challenge = Challenge(v.pop("purpose"), v.pop("challenge"), v.pop("challenge_user_id"),
                              v.pop("browser_session_id"), v.pop("live"))  # fmt: skip
        return challenge, (StoredCredential(**v) if v["id"] is not None else None)

    async def spend_login_challenge_with(
        self, conn: Connection, digest: bytes, expires: int, credential_id: bytes
    ) -> tuple[bool, StoredCredential | None]:
        """Whether this spent the login challenge of ``digest`` (``False``: spent before), and the
        credential ``credential_id`` of an active account."""
        row = await conn.fetchrow(_SPEND_WITH_CREDENTIAL, digest, credential_id, expires)
        assert row is not None  # the statement answers one row whatever it finds
        v = dict(row)
        fresh = bool(v.pop("fresh"))
        return fresh, (StoredCredential(**v) if v["id"] is not None else None)

    async def drop_challenge(self, conn: Connection, digest: bytes) -> None:
        await conn.execute(_DROP_CHALLENGE, digest)

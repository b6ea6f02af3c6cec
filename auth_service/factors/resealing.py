"""Second factors' secrets sealed again under the newest key-encryption key (``keys reseal``).

TOTP secrets and recovery-code set keys are sealed like signing keys, so a KEK rotation must move
them too before the previous KEK leaves the settings, or every authenticator app and recovery code
would stop working. Run inside the signing keys' resealing transaction (``keys/resealing.py``):
all move or none does, and a blob that opens with no configured KEK stops the run, named.
"""

from __future__ import annotations

from auth_service.factors import recovery_codes, totp
from auth_service.factors.repository import FactorRepository
from auth_service.keys.sealing import KeyEncryptionKey
from shared.db.pool import Connection

__all__ = ["reseal_factor_secrets"]

_BOUND = {"totp": totp.associated_data, "recovery": recovery_codes.associated_data}


async def reseal_factor_secrets(conn: Connection, kek: KeyEncryptionKey) -> int:
    """Every sealed factor secret under the newest KEK, in the caller's transaction; how many."""
    repo, count = FactorRepository(), 0
    for table, bound in _BOUND.items():
        for blob in await repo.sealed(conn, table):
            name = f"a {table} secret of user {blob.user_id}"
            sealed, _ = kek.reseal(blob.sealed, bound(blob.user_id), name=name)
            await repo.replace_sealed(conn, table, blob.user_id, sealed)
            count += 1
    return count

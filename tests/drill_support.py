"""What the failure drills share: valid customers on demand, bearer headers, a local issuer."""

from __future__ import annotations

import itertools
from typing import Any

from tests.shared.auth.token_factory import SigningKey, claims

_counter = itertools.count(1)


def cpf_from(base: int) -> str:
    digits = [int(c) for c in f"{base:09d}"]
    for start in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(start, 1, -1), strict=False))
        rest = (total * 10) % 11
        digits.append(0 if rest == 10 else rest)
    return "".join(map(str, digits))


def new_customer(run: int) -> dict[str, Any]:
    """A valid customer no other call of this process returns (CPF, e-mail and phone all unique)."""
    n = next(_counter)
    base = (run * 100_000 + n) % 999_999_999 or 1
    return {
        "cpf": cpf_from(base),
        "email": f"drill{run}.{n}@example.com",
        "name": f"Cliente Teste {n}",
        "phoneNumber": f"+55119{(run * 100_000 + n) % 100_000_000:08d}",
        "city": "São Paulo",
        "state": "SP",
        "country": "BR",
    }


def bearer(key: SigningKey, issuer: str, scope: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.sign(claims(iss=issuer, scope=scope, exp=2_000_000_000))}"}

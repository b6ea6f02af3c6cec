"""Valid customers for tests, computed independently of the code under test."""

from __future__ import annotations

from typing import Any


def cpf(n: int) -> str:
    """The n-th valid CPF (11 digits), by the check-digit rule written out again here."""
    base = [int(c) for c in f"{(n * 7_368_787 + 1_234_567) % 10**9:09d}"]
    for first_weight in (10, 11):
        rest = sum(d * w for d, w in zip(base, range(first_weight, 1, -1), strict=False)) * 10 % 11
        base.append(0 if rest == 10 else rest)
    digits = "".join(map(str, base))
    assert len(set(digits)) > 1
    return digits


def formatted(digits: str) -> str:
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def phone(n: int) -> str:
    """A valid Brazilian mobile number, written as people do: (11) 9XXXX-XXXX."""
    tail = f"{(n * 7_919 + 4_242) % 10**8:08d}"
    return f"(11) 9{tail[:4]}-{tail[4:]}"


def e164(n: int) -> str:
    return "+55119" + f"{(n * 7_919 + 4_242) % 10**8:08d}"


def customer(n: int, **overrides: Any) -> dict[str, Any]:
    """A complete customer document (every attribute set), unique by ``n``."""
    document: dict[str, Any] = {
        "cpf": formatted(cpf(n)),
        "email": f"cliente{n}@example.com.br",
        "name": f"Cliente Número {n}",
        "phoneNumber": phone(n),
        "birthdate": "1985-07-14",
        "profession": "Engenheira de Software",
        "salary": "12500.00",
        "country": "Brasil",
        "state": "SP",
        "city": "São Paulo",
        "zipcode": "01310-100",
        "street": "Avenida Paulista",
        "number": "1578",
        "complement": "Conjunto 42",
    }
    for name, value in overrides.items():
        if value is ...:
            document.pop(name, None)
        else:
            document[name] = value
    return document

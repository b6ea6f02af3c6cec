"""Operations whose answers the OpenAPI schema does not (yet) document, as the fuzzer found them.

Each is marked ``xfail(strict=True)`` on the conformance test only: the gap stays visible in
every run, and documenting it turns the test into an XPASS failure, which says to drop it here.
"""

from __future__ import annotations

import pytest

__all__ = ["KNOWN_GAPS", "NUL_REACHES_POSTGRES", "mark_known_gaps"]

_415 = "415 (a body without a JSON Content-Type, e.g. none at all) is answered but not documented"
_400 = (
    "400 is documented with Litestar's default ValidationException body as application/json; "
    "the service answers application/problem+json (RFC 9457) with an errors list"
)
_CUSTOMERS = (
    "only the success status and Litestar's default 400 (application/json) are documented; the API "
    "answers problem+json 400/404/409/412/415/422/428, 304 for If-None-Match, and declares no bearer "
    "security scheme"
)

KNOWN_GAPS: dict[str, str] = {
    # auth service: found by tests/fuzz/test_auth_api.py::test_conformance
    "POST /api/1/users": _415,
    "POST /api/1/users/me/password": _415,
    "GET /api/1/users/me": "401 (missing or invalid bearer token) is answered but not documented",
    "GET /api/1/admin/users": _400,
    "POST /api/1/admin/users": _415,
    "PATCH /api/1/admin/users/{user_id}": _415,
    "POST /api/1/admin/users/{user_id}/password": _415,
    "POST /api/1/admin/roles": _415,
    "PATCH /api/1/admin/roles/{name}": _415,
    "GET /api/1/admin/clients": _400,
    "POST /api/1/admin/clients": _415,
    "PATCH /api/1/admin/clients/{client_id}": _415,
    "GET /api/1/admin/audit-events": _400,
    # customer service: found by tests/fuzz/test_customer_api.py::test_conformance
    "GET /api/1/customers": _CUSTOMERS,
    "POST /api/1/customers": _CUSTOMERS,
    "GET /api/1/customers/search": _CUSTOMERS,
    "GET /api/1/customers/{cpf}": _CUSTOMERS,
    "PUT /api/1/customers/{cpf}": _CUSTOMERS,
    "PATCH /api/1/customers/{cpf}": _CUSTOMERS,
    "DELETE /api/1/customers/{cpf}": _CUSTOMERS,
}
"""``"METHOD /path"`` -> why its conformance test fails (the first gap found; there may be more)."""

NUL_REACHES_POSTGRES = (
    "U+0000 in text that reaches PostgreSQL answers 500 in the auth service "
    "(tests/auth_service/test_hostile_text.py); its fuzzing generates no NUL until that is fixed"
)


def mark_known_gaps(items: list[pytest.Item]) -> None:
    for item in items:
        if item.name.startswith("test_conformance["):
            reason = KNOWN_GAPS.get(getattr(item, "operation_label", ""))
            if reason is not None:
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))

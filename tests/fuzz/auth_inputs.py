"""Steer the auth service's generated requests toward accounts, roles and clients that exist.

Random UUIDs and names only ever meet 404, and random forms only ``invalid_request``; these hooks
add, next to what schemathesis generates: identifiers of users, roles and clients seeded before
the run, account documents with hostile but valid addresses, and token requests with real
credentials. DELETE is steered to spare ones, so the others outlive it for the operations after.
The bootstrap admin, its role and the ``first-party`` client are never offered: the fuzzer must
not lock the suite out of its own tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import strategies as st
from schemathesis import HookContext

__all__ = ["Seeded", "install", "seed"]

PASSWORD = "quiet orchard bicycle lantern 3"
USER_EMAILS = ("fuzz.agent@example.com", "fuzz.viewer@example.com")
SPARE_EMAILS = ("fuzz.spare1@example.com", "fuzz.spare2@example.com")
ROLES = ("agent", "viewer", "fuzz-role")
SPARE_ROLE = "fuzz-spare-role"
CLIENT = "fuzz-client"
SPARE_CLIENT = "fuzz-spare-client"
_LOCAL_PARTS = ["o'brien", "100%sure", "under_score", "jöhn.dœ", "😀", "a\u200fb", "a\\b", "x" * 70]


@dataclass
class Seeded:
    """What exists when fuzzing starts; filled by ``seed`` (the hooks read it when they draw)."""

    user_ids: list[str] = field(default_factory=list)
    spare_user_ids: list[str] = field(default_factory=list)
    client_secret: str = ""


SEEDED = Seeded()


def seed(base_url: str, admin: dict[str, str]) -> Seeded:
    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(base_url + path, json=body, headers=admin, timeout=30)
        assert response.status_code == 201, response.text
        return dict(response.json())

    for role in ("fuzz-role", SPARE_ROLE):
        post("/api/1/admin/roles", {"name": role, "scopes": ["customers:read"], "description": "fuzzed"})
    for emails, ids in ((USER_EMAILS, SEEDED.user_ids), (SPARE_EMAILS, SEEDED.spare_user_ids)):
        for email, role in zip(emails, ROLES, strict=False):
            ids.append(
                str(post("/api/1/admin/users", {"email": email, "password": PASSWORD, "roles": [role]})["id"])
            )
    post("/api/1/admin/clients", {"client_id": SPARE_CLIENT, "client_name": "spare"})
    client = post(
        "/api/1/admin/clients",
        {
            "client_id": CLIENT,
            "client_name": "fuzz",
            "grant_types": ["client_credentials"],
            "scope": "customers:read",
            "token_endpoint_auth_method": "client_secret_post",
        },
    )
    SEEDED.client_secret = str(client["client_secret"])
    return SEEDED


def _existing(name: str, deleting: bool) -> st.SearchStrategy[str] | None:
    if name == "user_id" and SEEDED.user_ids:
        return st.sampled_from(SEEDED.spare_user_ids if deleting else SEEDED.user_ids)
    if name == "name":
        return st.just(SPARE_ROLE) if deleting else st.sampled_from(ROLES)
    if name == "role":
        return st.sampled_from(ROLES)
    if name == "client_id":
        return st.just(SPARE_CLIENT if deleting else CLIENT)
    return None


def _path_parameters(context: HookContext, parameters: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    if not parameters:
        return st.just(parameters)
    assert context.operation is not None
    # Removing a role from a user is not deleting anything the later operations need.
    deleting = context.operation.method.upper() == "DELETE" and not context.operation.path.endswith("{role}")
    choices = {name: _existing(name, deleting) for name in parameters}
    steered = st.fixed_dictionaries(
        {
            name: strategy if strategy is not None else st.just(parameters[name])
            for name, strategy in choices.items()
        }
    )
    return st.one_of(st.just(parameters), steered)


_ACCOUNT = st.fixed_dictionaries(
    {
        "email": st.tuples(st.sampled_from(_LOCAL_PARTS), st.integers(0, 999)).map(
            lambda drawn: f"{drawn[0]}{drawn[1]}@example.com"
        ),
        "password": st.sampled_from([PASSWORD, "short", "x" * 200, "O'Brien; -- 100% _ \\ lantern 9"]),
    },
    optional={"roles": st.lists(st.sampled_from(ROLES), unique=True)},
)
_USER_CHANGE = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["active", "disabled"]),
        "roles": st.lists(st.sampled_from(ROLES), unique=True),
        "email": _ACCOUNT.map(lambda account: account["email"]),
    },
)


def _token_forms() -> st.SearchStrategy[dict[str, str]]:
    password = st.fixed_dictionaries(
        {
            "grant_type": st.just("password"),
            "client_id": st.just("first-party"),
            "username": st.sampled_from([*USER_EMAILS, "FUZZ.AGENT@EXAMPLE.COM", "fuzz_agent@example.com"]),
            "password": st.sampled_from([PASSWORD, PASSWORD + "%", "' OR '1'='1"]),
        },
        optional={
            "scope": st.sampled_from(["customers:read", "users:manage", "customers:read customers:write"])
        },
    )
    credentials = st.fixed_dictionaries(
        {
            "grant_type": st.just("client_credentials"),
            "client_id": st.just(CLIENT),
            "client_secret": st.sampled_from([SEEDED.client_secret, SEEDED.client_secret + "x"]),
        },
        optional={"scope": st.sampled_from(["customers:read", "users:manage"])},
    )
    return st.one_of(password, credentials)


def _body(context: HookContext, body: Any) -> st.SearchStrategy[Any]:
    assert context.operation is not None
    label = f"{context.operation.method.upper()} {context.operation.path}"
    if label in ("POST /api/1/admin/users", "POST /api/1/users"):
        return st.one_of(st.just(body), _ACCOUNT)
    if label == "PATCH /api/1/admin/users/{user_id}":
        return st.one_of(st.just(body), _USER_CHANGE)
    if label == "POST /oauth/token":
        return st.one_of(st.just(body), _token_forms())
    return st.just(body)


def install(schema: Any) -> None:
    schema.hook("flatmap_path_parameters")(_path_parameters)
    schema.hook("flatmap_body")(_body)

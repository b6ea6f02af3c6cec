"""Steer the customer API's generated requests past its validation, so fuzzing reaches the database.

The schema documents a customer body as "any object" and a CPF as "any string", so purely
schema-driven cases are refused at the door (422, 400) and every success path goes untested.
These hooks add, next to what schemathesis generates: complete customer documents whose text
attributes are arbitrary Unicode (hostile characters included), merge patches of those, CPFs of
customers that exist (seeded before the run) in both spellings, ``If-Match: *``, and a PUT body
naming the CPF of its path.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from schemathesis import Case, HookContext

from tests.customer_service.factories import cpf, customer, formatted

__all__ = ["SEEDED", "install", "seed_documents"]

SEEDED = range(1, 9)
"""``factories.customer(n)`` for these ``n`` exists when fuzzing starts."""
_DISPOSABLE = range(7, 9)
"""The seeded customers DELETE is steered to; the others stay for PUT and PATCH, which run later."""
_CREATED = range(100, 400)
"""New customers the fuzzer may create (a CPF taken already answers 409: also worth trying)."""

_TEXT_FIELDS = ("name", "profession", "country", "state", "city", "street", "number", "complement")
_HOSTILE = st.sampled_from(
    ["O'Brien", "100%", "a_b", "C:\\x", "a & b | !c:*", "\u200fRTL\u202e", "👩🏽‍💻🇧🇷", "x" * 201, "\x00", " "]
)
_TEXT = st.one_of(_HOSTILE, st.text(min_size=1, max_size=60), st.none())


def seed_documents() -> list[dict[str, Any]]:
    return [customer(n) for n in SEEDED]


@st.composite
def _document(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.sampled_from([*SEEDED, *_CREATED]))
    document = customer(n, email=f"fuzz{n}@example.com")
    changed = draw(st.lists(st.sampled_from(_TEXT_FIELDS), unique=True, max_size=3))
    for field in changed:
        document[field] = draw(_TEXT)
    return document


@st.composite
def _patch(draw: st.DrawFn) -> dict[str, Any]:
    fields = draw(st.lists(st.sampled_from(_TEXT_FIELDS), unique=True, min_size=1, max_size=3))
    return {field: draw(_TEXT) for field in fields}


def _cpfs(numbers: range) -> st.SearchStrategy[str]:
    return st.sampled_from(numbers).flatmap(lambda n: st.sampled_from([cpf(n), formatted(cpf(n))]))


def _path_parameters(context: HookContext, parameters: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    if not parameters or "cpf" not in parameters:
        return st.just(parameters)
    assert context.operation is not None
    numbers = _DISPOSABLE if context.operation.method.upper() == "DELETE" else SEEDED
    return st.one_of(st.just(parameters), _cpfs(numbers).map(lambda value: {**parameters, "cpf": value}))


def _body(context: HookContext, body: Any) -> st.SearchStrategy[Any]:
    assert context.operation is not None
    method = context.operation.method.upper()
    if method in ("POST", "PUT"):
        return st.one_of(st.just(body), _document())
    if method == "PATCH":
        return st.one_of(st.just(body), _patch())
    return st.just(body)


def _headers(context: HookContext, headers: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    assert context.operation is not None
    if context.operation.method.upper() not in ("PUT", "PATCH", "DELETE"):
        return st.just(headers)
    return st.one_of(st.just(headers), st.just({**(headers or {}), "If-Match": "*"}))


def _case(context: HookContext, case: Case[Any]) -> Case[Any]:
    """A replacement names the customer it replaces (a different CPF is refused: it is the key)."""
    path_cpf = (case.path_parameters or {}).get("cpf")
    if case.method.upper() == "PUT" and isinstance(case.body, dict) and "cpf" in case.body and path_cpf:
        case.body["cpf"] = path_cpf
    return case


def install(schema: Any) -> None:
    schema.hook("flatmap_path_parameters")(_path_parameters)
    schema.hook("flatmap_body")(_body)
    schema.hook("flatmap_headers")(_headers)
    schema.hook("map_case")(_case)

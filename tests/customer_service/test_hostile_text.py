"""SQL metacharacters, NUL, bidi controls, emoji and 10k-character strings in every customer text
field and in search: stored and returned exactly, or refused with a problem naming the field.

``test_create.py`` already covers accents, scripts, emoji names, a NUL and a newline in ``name``,
and ``test_search.py`` a NUL and 201 characters in ``q``; this module covers every other field and
the characters SQL gives a meaning to (quote, LIKE wildcards, escape, tsquery operators).
Refusals are 422 for body attributes and 400 for query parameters, as the API documents them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.customer_service.conftest import BASE, MERGE_PATCH
from tests.customer_service.factories import cpf, customer

PROBLEM = "application/problem+json"
SEARCH = f"{BASE}/search"

TEXT_FIELDS = {
    "name": 200,
    "profession": 100,
    "country": 100,
    "state": 100,
    "city": 100,
    "street": 200,
    "number": 20,
    "complement": 100,
}
"""Free-text attributes and their limits in characters."""
OTHER_FIELDS = ("email", "phoneNumber", "birthdate", "salary", "zipcode")

HOSTILE = {
    "quote": "O'Brien'; DROP TABLE customers; --",
    "double-quote": 'Ana "Zé" Souza',
    "percent": "100% Souza%",
    "underscore": "Ana_Souza_",
    "backslash": "C:\\Ana\\x00\\'",
    "like-escape": "\\%\\_%_",
    "tsquery": "a & b | !c <-> d:* (e)",
    "rtl-mark": "Ana\u200fSouza",
    "rtl-override": "Ana \u202eazuoS\u202c",
    "emoji": "Ana 👩🏽‍💻🇧🇷",
    "line-separator": "Ana\u2028Souza",
}
"""Stored exactly in any text field whose limit they fit (the short ``number`` field gets a prefix)."""

CONTROLS = {"nul": "\x00", "escape": "\x1b", "delete": "\x7f", "c1-next-line": "\x85"}


def _fit(value: str, limit: int) -> str:
    return value[:limit].strip()


def _row_column(field: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in field)


@pytest.mark.parametrize("kind", HOSTILE)
async def test_metacharacters_are_stored_and_returned_exactly_in_every_text_field(
    api: httpx.AsyncClient, db: asyncpg.Connection, kind: str
) -> None:
    values = {field: _fit(HOSTILE[kind], limit) for field, limit in TEXT_FIELDS.items()}
    created = await api.post(BASE, json=customer(1, **values))
    assert created.status_code == 201, created.text
    assert {field: created.json()[field] for field in TEXT_FIELDS} == values
    fetched = (await api.get(f"{BASE}/{cpf(1)}")).json()
    assert {field: fetched[field] for field in TEXT_FIELDS} == values
    columns = ", ".join(_row_column(field) for field in TEXT_FIELDS)
    row = await db.fetchrow(f"SELECT {columns} FROM customers WHERE cpf = $1", cpf(1))
    assert row is not None
    assert dict(zip(TEXT_FIELDS, row.values(), strict=True)) == values
    assert await db.fetchval("SELECT count(*) FROM customers") == 1


@pytest.mark.parametrize("kind", CONTROLS)
async def test_control_characters_are_refused_in_every_field(
    api: httpx.AsyncClient, db: asyncpg.Connection, kind: str
) -> None:
    fields = [*TEXT_FIELDS, *OTHER_FIELDS]
    valid = customer(1)
    document = {**valid, **{field: valid[field][:2] + CONTROLS[kind] + valid[field][2:] for field in fields}}
    response = await api.post(BASE, json=document)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert sorted(error["field"] for error in response.json()["errors"]) == sorted(fields)
    assert await db.fetchval("SELECT count(*) FROM customers") == 0


@pytest.mark.parametrize("field", [*TEXT_FIELDS, *OTHER_FIELDS])
async def test_ten_thousand_characters_are_refused_in_every_field(api: httpx.AsyncClient, field: str) -> None:
    response = await api.post(BASE, json=customer(1, **{field: "😀é" * 5_000}))
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_longest_value_is_stored_whole_in_every_field(api: httpx.AsyncClient) -> None:
    """At the limit, in code points that take 4 bytes each: nothing is cut by a byte count."""
    document = customer(2, **{field: "😀" * limit for field, limit in TEXT_FIELDS.items()})
    response = await api.post(BASE, json=document)
    assert response.status_code == 201, response.text
    fetched = (await api.get(f"{BASE}/{cpf(2)}")).json()
    assert {field: fetched[field] for field in TEXT_FIELDS} == {
        field: "😀" * limit for field, limit in TEXT_FIELDS.items()
    }


async def test_patch_and_put_keep_metacharacters_exactly(api: httpx.AsyncClient) -> None:
    assert (await api.post(BASE, json=customer(3))).status_code == 201
    patched = await api.patch(
        f"{BASE}/{cpf(3)}",
        json={"complement": HOSTILE["like-escape"], "street": HOSTILE["quote"]},
        headers={**MERGE_PATCH, "If-Match": "*"},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["complement"] == HOSTILE["like-escape"]
    assert patched.json()["street"] == HOSTILE["quote"]
    replaced = await api.put(
        f"{BASE}/{cpf(3)}", json=customer(3, name=HOSTILE["rtl-override"]), headers={"If-Match": "*"}
    )
    assert replaced.status_code == 200, replaced.text
    assert (await api.get(f"{BASE}/{cpf(3)}")).json()["name"] == HOSTILE["rtl-override"]


# --- search -----------------------------------------------------------------------------------

LITERAL = {
    "quote": customer(11, name="Maria D'Ávila", city="O'Higgins", email="davila@example.com"),
    "percent": customer(12, name="Loja Cem Por Cento", city="100% Norte", email="cem@example.com"),
    "underscore": customer(13, name="Ana Sublinhado", city="Vila_Nova", email="sub@example.com"),
    "backslash": customer(14, name="Barra Invertida", city="Rio\\Sul", email="barra@example.com"),
    "plain": customer(15, name="Ana Comum", city="Vila Nova", email="comum@example.com"),
}


@pytest.fixture
async def literal(api: httpx.AsyncClient) -> httpx.AsyncClient:
    for document in LITERAL.values():
        response = await api.post(BASE, json=document)
        assert response.status_code == 201, response.text
    return api


async def _cities(api: httpx.AsyncClient, **query: str) -> list[str]:
    response = await api.get(SEARCH, params=query)
    assert response.status_code == 200, response.text
    return sorted(item["city"] for item in response.json()["items"])


CITY_FILTERS: list[tuple[str, list[str]]] = [
    ("O'Higgins", ["O'Higgins"]),
    ("o'higgins", ["O'Higgins"]),  # case-insensitive, still literal
    ("100% Norte", ["100% Norte"]),
    ("100%", []),  # % is not a wildcard
    ("%", []),
    ("Vila_Nova", ["Vila_Nova"]),
    ("Vila Nova", ["Vila Nova"]),
    ("Vila_Nov_", []),  # _ is not a wildcard
    ("_", []),
    ("Rio\\Sul", ["Rio\\Sul"]),
    ("Rio\\", []),
    ("' OR '1'='1", []),
    ("\\%", []),
]


async def test_text_filters_compare_literally(literal: httpx.AsyncClient) -> None:
    found = {city: await _cities(literal, city=city) for city, _ in CITY_FILTERS}
    assert found == dict(CITY_FILTERS)


QUERIES: list[tuple[str, list[str]]] = [
    ("d'avila", ["O'Higgins"]),
    ("D'Ávila", ["O'Higgins"]),
    ("o'higgins", ["O'Higgins"]),
    ("vila_nova", ["Vila Nova", "Vila_Nova"]),  # punctuation folds to a space, as stored text does
    ("rio\\sul", ["Rio\\Sul"]),
    ("' OR '1'='1", []),
    ("invertida') OR true --", []),
]


async def test_query_text_is_data_not_syntax(literal: httpx.AsyncClient) -> None:
    found = {q: await _cities(literal, q=q) for q, _ in QUERIES}
    assert found == dict(QUERIES)


async def test_wildcards_in_q_add_nothing(literal: httpx.AsyncClient) -> None:
    pairs = [("100%", "100"), ("%ana%", "ana"), ("an_", "an"), ("_ana", "ana"), ("\\ana", "ana")]
    found = {q: await _cities(literal, q=q) for q, _ in pairs}
    assert found == {q: await _cities(literal, q=plain) for q, plain in pairs}


TSQUERY_AND_UNICODE = [
    "a & b",
    "a | b",
    "!a",
    "a:*",
    "a <-> b",
    "a <2> b",
    "(a",
    "a)",
    "a:A",
    "'a'",
    "a''b",
    "\\a",
    "a\\",
    "a % b _",
    "ana\u200f",
    "\u202eana",
    "ana 👩🏽‍💻",
    "\uff46\uff55\uff4c\uff4c \uff57\uff49\uff44\uff54\uff48",  # full-width letters
    "ß ǅ ﬁ",  # letters whose case folding changes their length
]


async def test_tsquery_and_unicode_in_q_never_fail(literal: httpx.AsyncClient) -> None:
    answers = {q: await literal.get(SEARCH, params={"q": q}) for q in TSQUERY_AND_UNICODE}
    assert {q: r.status_code for q, r in answers.items()} == dict.fromkeys(TSQUERY_AND_UNICODE, 200)
    assert {r.headers["content-type"] for r in answers.values()} == {"application/json"}


SEARCH_TEXT = ["q", "city", "state", "country", "profession"]


@pytest.mark.parametrize("value", ["a\x00b", "a\x1bb", "a\x85b"])
async def test_control_characters_in_search_parameters_are_400(api: httpx.AsyncClient, value: str) -> None:
    response = await api.get(SEARCH, params=dict.fromkeys(SEARCH_TEXT, value))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert sorted(error["field"] for error in response.json()["errors"]) == sorted(SEARCH_TEXT)


@pytest.mark.parametrize("name", SEARCH_TEXT)
async def test_ten_thousand_character_search_parameters_are_400(api: httpx.AsyncClient, name: str) -> None:
    response = await api.get(SEARCH, params={name: "é" * 10_000})  # 60 KB encoded: under httpx's URL limit
    assert response.status_code == 400, response.text
    assert [error["field"] for error in response.json()["errors"]] == [name]


async def test_q_without_a_letter_or_digit_is_400(api: httpx.AsyncClient) -> None:
    values = ["😀😀", "\u200f", "%%%", "___", "\\\\", "'" * 3]
    answers = {q: await api.get(SEARCH, params={"q": q}) for q in values}
    assert {q: r.status_code for q, r in answers.items()} == dict.fromkeys(values, 400)
    fields = {q: [error["field"] for error in r.json()["errors"]] for q, r in answers.items()}
    assert fields == {q: ["q"] for q in values}


# --- any text at all ------------------------------------------------------------------------------

_cpfs: Iterator[int] = itertools.count(5000)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(field=st.sampled_from(sorted(TEXT_FIELDS)), text=st.text(min_size=1, max_size=60))
async def test_any_text_is_stored_exactly_or_refused(
    api: httpx.AsyncClient, db: asyncpg.Connection, field: str, text: str
) -> None:
    """Trimmed, stored and returned unchanged, or 422 naming the field: never a 500, never altered."""
    n = next(_cpfs)
    response = await api.post(BASE, json=customer(n, **{field: text}))
    body: Any = response.json()
    if response.status_code == 422:
        assert [error["field"] for error in body["errors"]] == [field]
        refused_for = text.strip() == "" or any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text)
        assert refused_for or len(text.strip()) > TEXT_FIELDS[field]
        return
    assert response.status_code == 201, response.text
    assert body[field] == text.strip()
    assert (
        await db.fetchval(f"SELECT {_row_column(field)} FROM customers WHERE cpf = $1", cpf(n))
        == text.strip()
    )

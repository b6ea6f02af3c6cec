"""GET /api/1/customers: keyset pages, limits, cursors, and stability while others write."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re

import asyncpg
import httpx
import pytest

from bench.customer_seed import COLUMNS, customer_rows
from tests.customer_service.conftest import BASE
from tests.customer_service.factories import cpf, customer, formatted

LINK = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


async def _seed(db: asyncpg.Connection, count: int) -> list[str]:
    rows = list(customer_rows(count, seed=7))
    await db.copy_records_to_table("customers", records=rows, columns=COLUMNS)
    return sorted(str(row[0]) for row in rows)


async def _walk(api: httpx.AsyncClient, url: str) -> tuple[list[str], int]:
    """Follow Link rel=next to the end; the CPFs seen and the number of pages."""
    seen: list[str] = []
    pages = 0
    while True:
        response = await api.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        seen.extend(item["cpf"] for item in body["items"])
        if body["nextCursor"] is None:
            assert "link" not in response.headers
            return seen, pages
        match = LINK.match(response.headers["link"])
        assert match is not None, response.headers["link"]
        assert f"cursor={body['nextCursor']}" in match["url"]
        url = match["url"]


async def test_pages_in_cpf_order(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    expected = await _seed(db, 45)
    seen, pages = await _walk(api, f"{BASE}?limit=20")
    assert seen == expected
    assert pages == 3


async def test_default_and_largest_limit(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    expected = await _seed(db, 120)
    first = (await api.get(BASE)).json()
    assert [item["cpf"] for item in first["items"]] == expected[:20]
    largest = (await api.get(f"{BASE}?limit=100")).json()
    assert len(largest["items"]) == 100
    rest = (await api.get(BASE, params={"limit": "100", "cursor": largest["nextCursor"]})).json()
    assert [item["cpf"] for item in rest["items"]] == expected[100:]
    assert rest["nextCursor"] is None


async def test_exact_last_page_has_no_next(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    await _seed(db, 10)
    body = (await api.get(f"{BASE}?limit=10")).json()
    assert len(body["items"]) == 10
    assert body["nextCursor"] is None


async def test_empty_listing(api: httpx.AsyncClient) -> None:
    response = await api.get(BASE)
    assert response.json() == {"items": [], "nextCursor": None}


async def test_last_cpf_continues_after_it(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    expected = await _seed(db, 30)
    for given in (expected[9], formatted(expected[9])):
        body = (await api.get(BASE, params={"lastCpf": given, "limit": "5"})).json()
        assert [item["cpf"] for item in body["items"]] == expected[10:15]


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "", "99999"])
async def test_limit_out_of_range_is_400(api: httpx.AsyncClient, limit: str) -> None:
    response = await api.get(BASE, params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "limit", "in": "query", "message": "Must be a whole number from 1 to 100."}
    ]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "AAAA",
        _b64(b'["52998224726",null,null]'),  # wrong check digits
        _b64(b'["52998224725",null,null,"x"]'),  # extra member
        _b64(b'{"cpf":"52998224725"}'),  # not the array form
        _b64(b'["52998224725", null, null]'),  # not the canonical spelling
        _b64(b'["52998224725",null,null]') + "=",  # padding
        "x" * 500,
    ],
)
async def test_tampered_cursor_is_400(api: httpx.AsyncClient, cursor: str) -> None:
    response = await api.get(BASE, params={"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"


async def test_cursor_we_gave_is_accepted(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    await _seed(db, 3)
    cursor = (await api.get(f"{BASE}?limit=1")).json()["nextCursor"]
    decoded = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    assert decoded[0] == (await api.get(f"{BASE}?limit=1")).json()["items"][0]["cpf"]
    assert (await api.get(BASE, params={"cursor": cursor})).status_code == 200


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"lastCpf": "123"}, ["lastCpf"]),
        ({"lastCpf": cpf(1), "cursor": "abc"}, ["cursor", "lastCpf"]),
        ({"page": "2", "limit": "0"}, ["page", "limit"]),
    ],
)
async def test_bad_parameters_are_all_listed(
    api: httpx.AsyncClient, query: dict[str, str], fields: list[str]
) -> None:
    response = await api.get(BASE, params=query)
    assert response.status_code == 400
    assert sorted(e["field"] for e in response.json()["errors"]) == sorted(fields)


async def test_repeated_parameter_is_400(api: httpx.AsyncClient) -> None:
    response = await api.get(f"{BASE}?limit=5&limit=6")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "limit"


async def test_stable_under_concurrent_inserts_and_deletes(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    """Every customer present from start to end appears exactly once; nothing appears twice."""
    stable = set(await _seed(db, 80))
    rng = random.Random(4)
    volatile = [customer(5000 + i) for i in range(30)]
    done = asyncio.Event()

    async def churn() -> None:
        created: list[str] = []
        for document in volatile:
            response = await api.post(BASE, json=document)
            assert response.status_code == 201
            created.append(response.json()["cpf"])
            if len(created) > 3 and rng.random() < 0.6:
                victim = created.pop(rng.randrange(len(created)))
                assert (await api.delete(f"{BASE}/{victim}")).status_code == 204
            await asyncio.sleep(0)
        done.set()

    async def read_all() -> list[str]:
        seen, _ = await _walk(api, f"{BASE}?limit=9")
        return seen

    writer = asyncio.create_task(churn())
    walks = [await read_all()]
    while not done.is_set():
        walks.append(await read_all())
    await writer
    volatile_cpfs = {document["cpf"].replace(".", "").replace("-", "") for document in volatile}
    assert any(volatile_cpfs & set(seen) for seen in walks), "the walks did not overlap the writes"
    assert len(walks) > 1
    for seen in walks:
        assert len(seen) == len(set(seen)), "a customer appeared twice"
        assert stable <= set(seen), "a customer present throughout was skipped"
        assert seen == sorted(seen)

"""GET /api/1/customers/search: accents, prefixes, typos, digits, filters, ranking, pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest

from bench.customer_seed import COLUMNS, customer_rows
from customer_service.customers import search as search_module
from tests.customer_service.conftest import BASE, AppFactory
from tests.customer_service.factories import cpf, customer, formatted

SEARCH = f"{BASE}/search"

PEOPLE: dict[str, dict[str, Any]] = {
    "joao": customer(1, name="João Conceição", city="São Paulo", state="SP", profession="Médico",
                     salary="15000.00", birthdate="1980-03-01", phoneNumber="(11) 98765-4321",
                     zipcode="01310-100", street="Avenida Paulista", email="joao.c@example.com"),
    "jose": customer(2, name="José Antônio Ribeiro", city="São José dos Campos", state="SP",
                     profession="Engenheiro", salary="9000.00", birthdate="1990-06-15", zipcode="12200-000",
                     street="Rua das Flores", email="ze@example.org"),
    "fernanda": customer(3, name="Fernanda Silva", city="Rio de Janeiro", state="RJ",
                         profession="Advogada", salary="22000.50", birthdate="1975-11-30",
                         zipcode="20040-002", street="Rua da Assembleia", email="fernanda@example.net"),
    "silvana": customer(4, name="Silvana Moraes", city="Curitiba", state="PR", profession="Professora",
                        salary="5000.00", birthdate="2000-01-20", zipcode="80010-000", street="Rua XV",
                        email="silvana@example.com", country="Brasil"),
    "paulista": customer(5, name="Ana Paulista", city="Recife", state="PE", profession="Designer",
                         salary="7000.00", birthdate="1995-09-09", zipcode="50030-000",
                         street="Rua do Bom Jesus", email="ana.p@example.com", complement=None),
    "foreign": customer(6, name="Åsa Øberg", city="Lisboa", state="Lisboa", country="Portugal",
                        profession="Médica", phoneNumber="+351 912 345 678", zipcode="1100-148",
                        street="Rua Augusta", email="asa@example.pt", salary="0"),
}  # fmt: skip


@pytest.fixture
async def people(api: httpx.AsyncClient) -> httpx.AsyncClient:
    for document in PEOPLE.values():
        response = await api.post(BASE, json=document)
        assert response.status_code == 201, response.text
    return api


def _cpf(key: str) -> str:
    return str(PEOPLE[key]["cpf"]).replace(".", "").replace("-", "")


async def _found(api: httpx.AsyncClient, **query: str) -> list[str]:
    response = await api.get(SEARCH, params=query)
    assert response.status_code == 200, response.text
    by_cpf = {_cpf(key): key for key in PEOPLE}
    return [by_cpf[item["cpf"]] for item in response.json()["items"]]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("sao paulo", {"joao"}),  # accents and case ignored; both words must match
        ("SÃO PAULO", {"joao"}),
        ("são josé", {"jose"}),
        ("joã", {"joao"}),  # prefix
        ("jo", {"joao", "jose"}),
        ("conceicao", {"joao"}),
        ("asa oberg", {"foreign"}),  # Å and Ø folded
        ("fernanda@example.net", {"fernanda"}),
        ("example.org", {"jose"}),
        ("medic", {"joao", "foreign"}),
        ("rua augusta lisboa", {"foreign"}),
        ("zzzz", set()),
    ],
)
async def test_text_matching(people: httpx.AsyncClient, q: str, expected: set[str]) -> None:
    assert set(await _found(people, q=q)) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("fernada", "fernanda"),  # a missing letter
        ("fernamda", "fernanda"),  # a wrong letter
        ("ribiero", "jose"),  # swapped letters
        ("conceisao", "joao"),
    ],
)
async def test_typos_are_tolerated(people: httpx.AsyncClient, q: str, expected: str) -> None:
    assert (await _found(people, q=q))[:1] == [expected]


async def test_inner_part_of_a_word(people: httpx.AsyncClient) -> None:
    assert "paulista" in await _found(people, q="aulist")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (lambda: formatted(_cpf("jose")), "jose"),
        (lambda: _cpf("jose"), "jose"),
        (lambda: _cpf("jose")[:6], "jose"),  # a CPF prefix
        (lambda: "(11) 98765-4321", "joao"),
        (lambda: "+55 11 98765-4321", "joao"),
        (lambda: "11987654321", "joao"),
        (lambda: "912 345 678", "foreign"),  # without the country code
        (lambda: "01310-100", "joao"),
        (lambda: "01310100", "joao"),
        (lambda: "20040 002", "fernanda"),
    ],
)
async def test_digits_match_cpf_phone_and_zipcode_in_any_format(
    people: httpx.AsyncClient, q: Any, expected: str
) -> None:
    assert await _found(people, q=q()) == [expected]


async def test_name_hits_rank_above_street_hits(people: httpx.AsyncClient) -> None:
    found = await _found(people, q="paulista")
    assert found == ["paulista", "joao"]  # her name, then his street


async def test_exact_words_rank_above_widened_ones(people: httpx.AsyncClient) -> None:
    found = await _found(people, q="silva")
    assert found[0] == "fernanda"  # Silva itself before Silvana (prefix) and any trigram neighbour
    assert "silvana" in found


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"city": "sao paulo"}, {"joao"}),
        ({"city": "SÃO PAULO"}, {"joao"}),
        ({"city": "São"}, set()),  # exact, not prefix
        ({"state": "sp"}, {"joao", "jose"}),
        ({"country": "portugal"}, {"foreign"}),
        ({"profession": "medica"}, {"foreign"}),
        ({"minSalary": "9000"}, {"joao", "jose", "fernanda"}),
        ({"maxSalary": "5000"}, {"silvana", "foreign"}),
        ({"minSalary": "9000", "maxSalary": "15000.00"}, {"joao", "jose"}),
        ({"bornFrom": "1990-06-15"}, {"jose", "silvana", "paulista"}),
        ({"bornTo": "1980-03-01"}, {"joao", "fernanda"}),
        ({"q": "rua", "state": "SP"}, {"jose"}),
        ({"q": "medic", "country": "portugal"}, {"foreign"}),
        ({"q": "s", "city": "curitiba"}, set()),  # one letter is a whole word, not a prefix
    ],
)
async def test_filters(people: httpx.AsyncClient, query: dict[str, str], expected: set[str]) -> None:
    assert set(await _found(people, **query)) == expected


async def test_created_range(people: httpx.AsyncClient) -> None:
    created = (await people.get(f"{BASE}/{_cpf('joao')}")).json()["createdAt"]
    day = created[:10]
    assert len(await _found(people, createdFrom=day, createdTo=day)) == len(PEOPLE)
    assert await _found(people, createdTo="2000-01-01") == []
    assert len(await _found(people, createdFrom="2000-01-01T00:00:00Z")) == len(PEOPLE)
    assert await _found(people, createdFrom="2999-01-01T00:00:00+03:00") == []
    assert await _found(people, createdFrom=created, createdTo=created, q="joão") == ["joao"]


async def test_filters_alone_are_in_cpf_order(people: httpx.AsyncClient) -> None:
    found = await _found(people, state="SP")
    assert found == sorted(found, key=_cpf)


async def test_ranked_pages_follow_the_cursor(people: httpx.AsyncClient) -> None:
    whole = await _found(people, q="rua")
    assert len(whole) == 5
    seen: list[str] = []
    params: dict[str, str] = {"q": "rua", "limit": "2"}
    while True:
        response = await people.get(SEARCH, params=params)
        body = response.json()
        seen.extend(item["cpf"] for item in body["items"])
        if body["nextCursor"] is None:
            break
        link = urlsplit(response.headers["link"].removeprefix("<").removesuffix('>; rel="next"'))
        assert link.path == SEARCH
        assert parse_qs(link.query) == {"q": ["rua"], "limit": ["2"], "cursor": [body["nextCursor"]]}
        params["cursor"] = body["nextCursor"]
    assert seen == [_cpf(key) for key in whole]


async def test_cursor_of_another_search_is_400(people: httpx.AsyncClient) -> None:
    cursor = (await people.get(SEARCH, params={"q": "rua", "limit": "1"})).json()["nextCursor"]
    response = await people.get(SEARCH, params={"q": "avenida", "cursor": cursor})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cursor"
    listing = (await people.get(BASE, params={"limit": "1"})).json()["nextCursor"]
    assert (await people.get(SEARCH, params={"q": "rua", "cursor": listing})).status_code == 400
    assert (await people.get(SEARCH, params={"q": "rua", "lastCpf": cpf(1)})).status_code == 400


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"q": ""}, ["q"]),
        ({"q": "  "}, ["q"]),
        ({"q": "--- ..."}, ["q"]),
        ({"q": "a" * 201}, ["q"]),
        ({"q": "a\x00b"}, ["q"]),
        ({"minSalary": "abc", "maxSalary": "-5"}, ["minSalary", "maxSalary"]),
        ({"minSalary": "10", "maxSalary": "5"}, ["maxSalary"]),
        ({"bornFrom": "2020-13-01", "bornTo": "01/01/2020"}, ["bornFrom", "bornTo"]),
        ({"createdFrom": "yesterday", "createdTo": "2025-01-01T00:00:00"}, ["createdFrom", "createdTo"]),
        ({"town": "Recife", "limit": "500"}, ["town", "limit"]),
        ({"city": "x" * 201}, ["city"]),
    ],
)
async def test_bad_parameters_are_all_listed(
    people: httpx.AsyncClient, query: dict[str, str], fields: list[str]
) -> None:
    response = await people.get(SEARCH, params=query)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert sorted(e["field"] for e in response.json()["errors"]) == sorted(fields)


async def test_search_over_its_time_budget_is_refused(make_api: AppFactory) -> None:
    api = await make_api(search_timeout=0.000001)
    response = await api.get(SEARCH, params={"q": "silva"})
    assert response.status_code == 422
    assert response.json()["type"].endswith("/search-too-broad")
    assert (await api.get(SEARCH, params={"q": "silva"})).status_code == 422  # the pool is still usable


async def test_written_changes_are_searchable(people: httpx.AsyncClient) -> None:
    etag = (await people.get(f"{BASE}/{_cpf('silvana')}")).headers["etag"]
    response = await people.patch(
        f"{BASE}/{_cpf('silvana')}",
        json={"city": "Florianópolis"},
        headers={"Content-Type": "application/merge-patch+json", "If-Match": etag},
    )
    assert response.status_code == 200
    assert await _found(people, q="florianopolis") == ["silvana"]
    assert await _found(people, q="curitiba") == []
    assert (await people.delete(f"{BASE}/{_cpf('silvana')}")).status_code == 204
    assert await _found(people, q="florianopolis") == []


@pytest.mark.parametrize("q", ["silva", "são paulo", "ana", "fernada", "rua", "santos silva", "1"])
async def test_walks_and_index_reads_give_the_same_pages(
    api: httpx.AsyncClient, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch, q: str
) -> None:
    """Whichever way a tier is read (walk, walk continued, index), the pages are the same."""
    await db.copy_records_to_table("customers", records=list(customer_rows(300, seed=3)), columns=COLUMNS)
    await db.execute("ANALYZE customers")
    widened = await db.fetchval("SELECT customer_search_query($1, true, true)", q)
    expected = await db.fetchval("SELECT count(*) FROM customers WHERE search_document @@ $1", widened)

    async def pages() -> list[str]:
        seen: list[str] = []
        params = {"q": q, "limit": "7"}
        while True:
            body = (await api.get(SEARCH, params=params)).json()
            seen.extend(item["cpf"] for item in body["items"])
            if body["nextCursor"] is None:
                return seen
            params["cursor"] = body["nextCursor"]

    by_index = await pages()
    monkeypatch.setattr(search_module, "BITMAP_BELOW", 0.0)  # walk every tier...
    monkeypatch.setattr(search_module, "WALK_ROWS", 5)  # ...a few rows at a time, then continue
    by_walking = await pages()
    monkeypatch.setattr(search_module, "INDEX_ROW_COST", 0.0)  # hand over to the index after one walk
    by_both = await pages()
    assert by_index == by_walking == by_both
    assert len(by_index) == len(set(by_index)) == expected

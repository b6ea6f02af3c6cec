"""POST /api/1/customers: what is stored, what is refused, and the conflicts it names."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import httpx
import pytest

from tests.customer_service.conftest import BASE, bearer
from tests.customer_service.factories import cpf, customer, e164, formatted

PROBLEM = "application/problem+json"


async def test_created_customer_is_normalised_and_located(api: httpx.AsyncClient) -> None:
    document = customer(1, email="  Cliente.Um@EXAMPLE.com.br ", name="  Maria  da Silva ", salary="12500.5")
    response = await api.post(BASE, json=document)
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"{BASE}/{cpf(1)}"
    assert response.headers["etag"].startswith('"')
    assert response.headers["etag"].endswith('"')
    assert body["cpf"] == cpf(1)
    assert body["email"] == "Cliente.Um@example.com.br"  # domain lower-cased, local part kept
    assert body["name"] == "Maria  da Silva"  # trimmed, inner spacing kept
    assert body["phoneNumber"] == e164(1)
    assert body["salary"] == "12500.50"
    assert body["birthdate"] == "1985-07-14"
    assert body["createdAt"] == body["updatedAt"]
    assert body["createdAt"].endswith("Z")
    fetched = await api.get(response.headers["location"])
    assert fetched.json() == body
    assert fetched.headers["etag"] == response.headers["etag"]


async def test_only_required_attributes(api: httpx.AsyncClient) -> None:
    response = await api.post(BASE, json={"cpf": cpf(2), "email": "a@example.com", "name": "Ana"})
    assert response.status_code == 201, response.text
    body = response.json()
    optional = set(body) - {"cpf", "email", "name", "createdAt", "updatedAt"}
    assert len(optional) == 11
    assert all(body[name] is None for name in optional)


async def test_creation_is_recorded_with_field_names_only(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    await api.post(BASE, json=customer(3, complement=None), headers=bearer(sub="agent-42"))
    event = await db.fetchrow("SELECT * FROM customer_events WHERE cpf = $1", cpf(3))
    assert event is not None
    assert event["action"] == "created"
    assert event["actor"] == "agent-42"
    assert "complement" not in event["changed_fields"]
    assert set(event["changed_fields"]) == set(customer(3)) - {"cpf", "complement"}
    assert len(event["request_id"]) == 32
    row = json.dumps(dict(event), default=str)
    assert "cliente3@" not in row
    assert "Paulista" not in row


async def test_every_invalid_field_is_listed(api: httpx.AsyncClient) -> None:
    response = await api.post(
        BASE,
        json={
            "cpf": "111.111.111-11",
            "email": "not-an-email",
            "name": "   ",
            "phoneNumber": "12345",
            "birthdate": "2999-01-01",
            "salary": 1500.25,
            "zipcode": "01310$100",
            "city": "x" * 101,
            "nickname": "Zé",
        },
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    fields = {error["field"] for error in problem["errors"]}
    assert fields == {
        "cpf",
        "email",
        "name",
        "phoneNumber",
        "birthdate",
        "salary",
        "zipcode",
        "city",
        "nickname",
    }
    assert all(error["in"] == "body" and error["message"] for error in problem["errors"])


async def test_missing_required_attributes(api: httpx.AsyncClient) -> None:
    response = await api.post(BASE, json={"phoneNumber": "(11) 91234-5678"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"cpf", "email", "name"}


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("529.982.247-26", "check digits"),
        ("52998224726", "check digits"),
        ("000.000.000-00", "repeated"),
        ("99999999999", "repeated"),
        ("5299822472", "11 digits"),
        ("529 982 247 25", "11 digits"),
        ("529.982.24725", "11 digits"),
        (
            "\uff15\uff12\uff19\uff19\uff18\uff12\uff12\uff14\uff17\uff12\uff15",
            "11 digits",
        ),  # full-width digits
    ],
)
async def test_invalid_cpf(api: httpx.AsyncClient, given: str, problem: str) -> None:
    response = await api.post(BASE, json=customer(4, cpf=given))
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["field"] == "cpf"
    assert problem in error["message"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("salary", "-1.00"),
        ("salary", "10.123"),
        ("salary", "1e3"),
        ("salary", "1,000.00"),
        ("salary", "1000000000000.00"),
        ("birthdate", "1890-01-01"),
        ("birthdate", "14/07/1985"),
        ("birthdate", "2023-02-29"),
        ("birthdate", "19850714"),
        ("phoneNumber", "+55 11 1234"),
        ("phoneNumber", 11987654321),
        ("email", "ana@example"),
        ("email", "ana@@example.com"),
        ("name", "Ana\x00Maria"),
        ("name", "Ana\nMaria"),
        ("name", 42),
        ("name", "x" * 201),
        ("complement", ""),
        ("number", "x" * 21),
    ],
)
async def test_invalid_values(api: httpx.AsyncClient, field: str, value: object) -> None:
    response = await api.post(BASE, json=customer(5, **{field: value}))
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("salary", "0", "0.00"),
        ("salary", "999999999999.99", "999999999999.99"),
        ("phoneNumber", "+1 650 253 0000", "+16502530000"),
        ("phoneNumber", "011 98765 4321", "+5511987654321"),
        ("zipcode", "SW1A 1AA", "SW1A 1AA"),
        ("email", "joão@exemplo.com.br", "joão@exemplo.com.br"),
    ],
)
async def test_accepted_values(api: httpx.AsyncClient, field: str, value: str, stored: str) -> None:
    response = await api.post(BASE, json=customer(6, **{field: value}))
    assert response.status_code == 201, response.text
    assert response.json()[field] == stored


@pytest.mark.parametrize(
    "text",
    [
        "José Antônio Conceição",  # precomposed accents
        "Jose\u0301 Anto\u0302nio",  # combining accents (NFD): kept as sent, not normalised
        "Ægir Øster Ðorđe Łukasz",
        "Кирилл Ильич",
        "山田 太郎",
        "محمد علي",
        "👩🏽‍💻 Dev",  # emoji with skin tone and zero-width joiner
        "O\u2019Brien-Smith",
        "A\u200bB",  # zero-width space inside
    ],
)
async def test_unicode_is_stored_and_returned_exactly(
    api: httpx.AsyncClient, db: asyncpg.Connection, text: str
) -> None:
    response = await api.post(BASE, json=customer(7, name=text, complement=text))
    assert response.status_code == 201, response.text
    assert response.json()["name"] == text
    assert (await api.get(f"{BASE}/{cpf(7)}")).json()["complement"] == text
    assert await db.fetchval("SELECT name FROM customers WHERE cpf = $1", cpf(7)) == text


async def test_lone_surrogate_is_refused(api: httpx.AsyncClient) -> None:
    body = json.dumps(customer(8)).replace("Cliente", "Cliente \\ud800", 1)
    response = await api.post(BASE, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


async def test_read_only_attributes_are_ignored(api: httpx.AsyncClient) -> None:
    document = customer(9, createdAt="2000-01-01T00:00:00Z", updatedAt="2000-01-01T00:00:00Z")
    response = await api.post(BASE, json=document)
    assert response.status_code == 201
    assert not response.json()["createdAt"].startswith("2000")


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'"text"', "application/json", 400),
        (b"cpf=1", "application/x-www-form-urlencoded", 415),
        (b"{}", "text/plain", 415),
    ],
)
async def test_malformed_bodies(api: httpx.AsyncClient, body: bytes, content_type: str, status: int) -> None:
    response = await api.post(BASE, content=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM


async def test_oversized_body_is_413(api: httpx.AsyncClient) -> None:
    response = await api.post(BASE, json=customer(10, complement="x" * 70_000))
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("taken", "second", "fields"),
    [
        ("cpf", customer(12, cpf=cpf(11)), ["cpf"]),
        ("email", customer(12, email="CLIENTE11@Example.COM.BR"), ["email"]),
        ("phone", customer(12, phoneNumber="+55 11 " + customer(11)["phoneNumber"][5:]), ["phoneNumber"]),
        ("all", customer(11, cpf=formatted(cpf(11))), ["cpf", "email", "phoneNumber"]),
    ],
)
async def test_conflicts_name_what_is_taken(
    api: httpx.AsyncClient, db: asyncpg.Connection, taken: str, second: dict[str, object], fields: list[str]
) -> None:
    assert (await api.post(BASE, json=customer(11))).status_code == 201
    response = await api.post(BASE, json=second)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == fields
    assert await db.fetchval("SELECT count(*) FROM customers") == 1
    assert await db.fetchval("SELECT count(*) FROM customer_events") == 1


async def test_concurrent_registrations_of_one_email_let_exactly_one_win(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    attempts = [customer(100 + i, email="disputed@example.com") for i in range(20)]
    responses = await asyncio.gather(*(api.post(BASE, json=document) for document in attempts))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19
    assert all(r.json()["errors"][0]["field"] == "email" for r in responses if r.status_code == 409)
    assert await db.fetchval("SELECT count(*) FROM customers") == 1

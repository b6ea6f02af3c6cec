"""GET, PUT, PATCH and DELETE of one customer: ETags, preconditions, immutability, the event log."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.customer_service.conftest import BASE, MERGE_PATCH, AppFactory, bearer
from tests.customer_service.factories import cpf, customer, formatted

PROBLEM = "application/problem+json"


async def _create(api: httpx.AsyncClient, n: int, **overrides: Any) -> httpx.Response:
    response = await api.post(BASE, json=customer(n, **overrides))
    assert response.status_code == 201, response.text
    return response


def _url(n: int) -> str:
    return f"{BASE}/{cpf(n)}"


# ------------------------------------------------------------------ GET
async def test_get_by_plain_or_formatted_cpf(api: httpx.AsyncClient) -> None:
    created = await _create(api, 1)
    for path in (_url(1), f"{BASE}/{formatted(cpf(1))}"):
        response = await api.get(path)
        assert response.status_code == 200
        assert response.json() == created.json()
        assert response.headers["etag"] == created.headers["etag"]
        assert response.headers["content-type"] == "application/json"


async def test_if_none_match_answers_304(api: httpx.AsyncClient) -> None:
    etag = (await _create(api, 1)).headers["etag"]
    for header in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        response = await api.get(_url(1), headers={"If-None-Match": header})
        assert response.status_code == 304, header
        assert response.content == b""
        assert response.headers["etag"] == etag
    assert (await api.get(_url(1), headers={"If-None-Match": '"0"'})).status_code == 200


async def test_absent_customer_is_404(api: httpx.AsyncClient) -> None:
    response = await api.get(_url(2))
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("path", ["123", "52998224726", "11111111111", "529.982.247-2X", "%20"])
async def test_malformed_cpf_is_400(api: httpx.AsyncClient, path: str) -> None:
    response = await api.get(f"{BASE}/{path}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "cpf"
    assert response.json()["errors"][0]["in"] == "path"


# -------------------------------------------------------------- PUT / PATCH
async def test_put_replaces_everything(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    created = await _create(api, 1)
    replacement = {"email": "novo@example.com", "name": "Nome Novo", "city": "Recife"}
    response = await api.put(_url(1), json=replacement, headers={"If-Match": created.headers["etag"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["email"] == "novo@example.com"
    assert body["city"] == "Recife"
    assert body["phoneNumber"] is None
    assert body["salary"] is None
    assert body["createdAt"] == created.json()["createdAt"]
    assert body["updatedAt"] > body["createdAt"]
    assert response.headers["etag"] != created.headers["etag"]
    assert (await api.get(_url(1))).json() == body
    event = await db.fetchrow("SELECT * FROM customer_events WHERE action = 'updated'")
    assert event is not None
    assert event["actor"] == "agent-7"
    assert set(event["changed_fields"]) == set(customer(1)) - {"cpf"}  # 3 changed, 10 removed


async def test_patch_merges_and_null_removes(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    created = await _create(api, 1)
    response = await api.patch(
        _url(1),
        json={"city": "Campinas", "complement": None, "cpf": formatted(cpf(1))},
        headers={**MERGE_PATCH, "If-Match": created.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = {**created.json(), "city": "Campinas", "complement": None}
    assert {k: v for k, v in body.items() if k != "updatedAt"} == {
        k: v for k, v in expected.items() if k != "updatedAt"
    }
    changed = await db.fetchval("SELECT changed_fields FROM customer_events WHERE action = 'updated'")
    assert sorted(changed) == ["city", "complement"]


async def test_patch_validates_only_what_it_sends(api: httpx.AsyncClient) -> None:
    created = await _create(api, 1)
    response = await api.patch(
        _url(1),
        json={"email": None, "salary": "-3", "phoneNumber": "x", "unknown": 1},
        headers={**MERGE_PATCH, "If-Match": created.headers["etag"]},
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"email", "salary", "phoneNumber", "unknown"}
    assert (await api.get(_url(1))).json() == created.json()


async def test_patch_takes_only_merge_patch(api: httpx.AsyncClient) -> None:
    created = await _create(api, 1)
    response = await api.patch(
        _url(1), json={"city": "Recife"}, headers={"If-Match": created.headers["etag"]}
    )
    assert response.status_code == 415
    assert response.headers["accept"] == "application/merge-patch+json"


async def test_unchanged_update_keeps_version(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    created = await _create(api, 1)
    response = await api.patch(
        _url(1), json={"city": "São Paulo"}, headers={**MERGE_PATCH, "If-Match": created.headers["etag"]}
    )
    assert response.status_code == 200
    assert response.headers["etag"] == created.headers["etag"]
    assert await db.fetchval("SELECT count(*) FROM customer_events WHERE action = 'updated'") == 0


@pytest.mark.parametrize("method", ["put", "patch"])
async def test_cpf_cannot_change(api: httpx.AsyncClient, method: str) -> None:
    created = await _create(api, 1)
    document = customer(1, cpf=cpf(2)) if method == "put" else {"cpf": cpf(2)}
    headers = {"If-Match": created.headers["etag"], **(MERGE_PATCH if method == "patch" else {})}
    response = await api.request(method.upper(), _url(1), json=document, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cpf"
    assert (await api.get(_url(1))).json()["cpf"] == cpf(1)


@pytest.mark.parametrize("method", ["put", "patch"])
async def test_stale_etag_is_412_and_changes_nothing(
    api: httpx.AsyncClient, db: asyncpg.Connection, method: str
) -> None:
    created = await _create(api, 1)
    first = await api.patch(
        _url(1), json={"city": "Recife"}, headers={**MERGE_PATCH, "If-Match": created.headers["etag"]}
    )
    assert first.status_code == 200
    document = customer(1, city="Belém") if method == "put" else {"city": "Belém"}
    headers = {"If-Match": created.headers["etag"], **(MERGE_PATCH if method == "patch" else {})}
    response = await api.request(method.upper(), _url(1), json=document, headers=headers)
    assert response.status_code == 412
    assert response.headers["content-type"] == PROBLEM
    assert (await api.get(_url(1))).json() == first.json()
    assert await db.fetchval("SELECT count(*) FROM customer_events WHERE action = 'updated'") == 1


@pytest.mark.parametrize("if_match", ['W/"{v}"', '"garbage"', "{v}", '"999998", "999999"'])
async def test_if_match_needs_a_strong_current_tag(api: httpx.AsyncClient, if_match: str) -> None:
    created = await _create(api, 1)
    version = created.headers["etag"].strip('"')
    response = await api.patch(
        _url(1), json={"city": "Recife"}, headers={**MERGE_PATCH, "If-Match": if_match.format(v=version)}
    )
    assert response.status_code == 412


async def test_if_match_list_and_star(api: httpx.AsyncClient) -> None:
    created = await _create(api, 1)
    listed = await api.patch(
        _url(1),
        json={"city": "Recife"},
        headers={**MERGE_PATCH, "If-Match": f'"0", {created.headers["etag"]}'},
    )
    assert listed.status_code == 200
    star = await api.patch(_url(1), json={"city": "Belém"}, headers={**MERGE_PATCH, "If-Match": "*"})
    assert star.status_code == 200
    assert star.json()["city"] == "Belém"


@pytest.mark.parametrize("method", ["put", "patch"])
async def test_missing_if_match_is_428(api: httpx.AsyncClient, method: str) -> None:
    await _create(api, 1)
    document = customer(1) if method == "put" else {"city": "Recife"}
    headers = MERGE_PATCH if method == "patch" else {}
    response = await api.request(method.upper(), _url(1), json=document, headers=headers)
    assert response.status_code == 428
    assert response.headers["content-type"] == PROBLEM


async def test_if_match_optional_when_configured(make_api: AppFactory) -> None:
    api = await make_api(require_if_match=False)
    await _create(api, 1)
    response = await api.patch(_url(1), json={"city": "Recife"}, headers=MERGE_PATCH)
    assert response.status_code == 200
    assert response.json()["city"] == "Recife"


async def test_update_of_absent_customer_is_404(api: httpx.AsyncClient) -> None:
    response = await api.put(_url(3), json=customer(3), headers={"If-Match": "*"})
    assert response.status_code == 412  # If-Match: * needs a current representation (RFC 9110)
    response = await api.put(_url(3), json=customer(3), headers={"If-Match": '"5"'})
    assert response.status_code == 412
    response = await api.patch(_url(3), json={"city": "x"}, headers={**MERGE_PATCH, "If-Match": '"5"'})
    assert response.status_code == 412


async def test_update_of_absent_customer_without_precondition_is_404(make_api: AppFactory) -> None:
    api = await make_api(require_if_match=False)
    assert (await api.put(_url(3), json=customer(3))).status_code == 404
    assert (await api.patch(_url(3), json={"city": "x"}, headers=MERGE_PATCH)).status_code == 404


@pytest.mark.parametrize("field", ["email", "phoneNumber"])
async def test_update_conflicts_are_409(api: httpx.AsyncClient, field: str) -> None:
    await _create(api, 1)
    created = await _create(api, 2)
    response = await api.patch(
        _url(2),
        json={field: customer(1)[field].upper()},
        headers={**MERGE_PATCH, "If-Match": created.headers["etag"]},
    )
    assert response.status_code == 409
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert (await api.get(_url(2))).json() == created.json()


async def test_own_email_in_other_case_is_not_a_conflict(api: httpx.AsyncClient) -> None:
    created = await _create(api, 1)
    response = await api.patch(
        _url(1),
        json={"email": "CLIENTE1@example.com.br"},
        headers={**MERGE_PATCH, "If-Match": created.headers["etag"]},
    )
    assert response.status_code == 200
    assert response.json()["email"] == "CLIENTE1@example.com.br"


# ------------------------------------------------------------------ DELETE
async def test_delete(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    await _create(api, 1, complement=None)
    response = await api.delete(_url(1), headers=bearer(sub="admin-1"))
    assert response.status_code == 204
    assert response.content == b""
    assert (await api.get(_url(1))).status_code == 404
    assert (await api.delete(_url(1))).status_code == 404
    event = await db.fetchrow("SELECT * FROM customer_events WHERE action = 'deleted'")
    assert event is not None
    assert event["actor"] == "admin-1"
    assert "complement" not in event["changed_fields"]
    assert "email" in event["changed_fields"]


async def test_delete_honours_if_match(api: httpx.AsyncClient) -> None:
    created = await _create(api, 1)
    assert (await api.delete(_url(1), headers={"If-Match": '"0"'})).status_code == 412
    assert (await api.get(_url(1))).status_code == 200
    assert (await api.delete(_url(1), headers={"If-Match": created.headers["etag"]})).status_code == 204


async def test_recreated_customer_gets_a_new_etag(api: httpx.AsyncClient) -> None:
    first = await _create(api, 1)
    assert (await api.delete(_url(1))).status_code == 204
    second = await _create(api, 1)
    assert second.headers["etag"] != first.headers["etag"]
    stale = await api.patch(
        _url(1), json={"city": "x"}, headers={**MERGE_PATCH, "If-Match": first.headers["etag"]}
    )
    assert stale.status_code == 412


async def test_api_prefix_is_configurable(make_api: AppFactory) -> None:
    api = await make_api(api_prefix="")
    created = await api.post("/customers", json=customer(1))
    assert created.status_code == 201
    assert created.headers["location"] == f"/customers/{cpf(1)}"
    assert (await api.get(created.headers["location"])).status_code == 200
    assert (await api.get(_url(1))).status_code == 404

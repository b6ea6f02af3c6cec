"""The list and search parameters: the OpenAPI document and the parser come from one declaration."""

from __future__ import annotations

from typing import Any

import pytest

from customer_service.customers.errors import InvalidRequest
from customer_service.customers.query_params import DeclaredQuery, ListQuery, SearchQuery, declared_params
from tests.fuzz.documents import customer_document

OPERATIONS = {"/api/1/customers": ListQuery, "/api/1/customers/search": SearchQuery}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return customer_document()


def _query_parameters(document: dict[str, Any], path: str) -> list[dict[str, Any]]:
    return [p for p in document["paths"][path]["get"]["parameters"] if p["in"] == "query"]


def _refused(query: type[DeclaredQuery], given: dict[str, list[str]]) -> list[dict[str, Any]]:
    with pytest.raises(InvalidRequest) as refused:
        query.read(given)
    return [dict(error) for error in refused.value.errors or []]


@pytest.mark.parametrize(("path", "query"), OPERATIONS.items())
def test_the_document_lists_exactly_what_the_parser_reads(
    document: dict[str, Any], path: str, query: type[DeclaredQuery]
) -> None:
    documented = [p["name"] for p in _query_parameters(document, path)]
    assert documented == [name for _, name, _ in declared_params(query)]
    errors = _refused(query, {"nope": ["1"], **{name: ["\x00"] for name in documented}})
    assert errors[0] == {"field": "nope", "message": "Is not a parameter of this endpoint.", "in": "query"}
    assert {e["field"] for e in errors[1:]} <= set(documented)  # each documented one is read


def test_limit_is_an_integer_from_1_to_100(document: dict[str, Any]) -> None:
    for path in OPERATIONS:
        (limit,) = (p for p in _query_parameters(document, path) if p["name"] == "limit")
        assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}


def test_values_become_typed_fields_and_errors_keep_the_query_order() -> None:
    given = {"minSalary": ["10.50"], "bornFrom": ["1990-01-31"], "limit": ["5"], "q": [" ana "]}
    query = SearchQuery.read(given)
    assert (str(query.min_salary), str(query.born_from)) == ("10.50", "1990-01-31")
    assert (query.limit, query.q) == (5, "ana")
    assert ListQuery.read({}) == ListQuery(limit=20, cursor=None, last_cpf=None)
    fields = [e["field"] for e in _refused(ListQuery, {"zz": ["1"], "limit": ["1", "2"], "aa": ["1"]})]
    assert fields == ["zz", "limit", "aa"]

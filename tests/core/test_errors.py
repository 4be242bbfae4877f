"""Every refusal code has a status and a message in both languages."""

import re

import pytest

from yuyue.core.errors import CATALOGUE, DomainError


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_speaks_both_languages(code):
    status, en, zh = CATALOGUE[code]
    assert 400 <= status < 600
    assert en and zh and en != zh
    assert re.search(r"[\u4e00-\u9fff]", zh), "the zh-Hans message must be Chinese"
    assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", zh))


def test_unknown_codes_are_a_bug():
    with pytest.raises(ValueError):
        DomainError("no_such_code")


def test_nul_characters_in_a_query_are_refused_before_any_view(db):
    from django.test import Client

    response = Client().get("/api/merchants", {"q": "a\x00b"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def test_nul_characters_in_a_json_body_are_refused(db):
    from django.test import Client

    response = Client().post(
        "/api/auth/login", '{"phone": "1\\u0000", "password": "x"}', content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (422, "invalid_input")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_problem_titles_show_no_template_fields(language):
    """The title is the same for every occurrence of a code; the values go in the detail."""
    from django.utils import translation

    from yuyue.core.errors import problem

    with translation.override(language):
        for code in CATALOGUE:
            assert "{" not in problem(code)["title"], code
        limited = problem("per_user_limit", detail="You can book this slot at most 2 time(s).")
    assert "…" in limited["title"] and "2" in limited["detail"]


def test_docs_api_lists_every_code_as_the_catalogue_has_it():
    """Client developers branch on these codes; the table in docs/api.md must not drift."""
    from django.conf import settings

    from yuyue.core.errors import TABLE_END, TABLE_START, catalogue_table

    doc = (settings.PROJECT_DIR / "docs" / "api.md").read_text(encoding="utf-8")
    table = doc.partition(TABLE_START)[2].partition(TABLE_END)[0].strip()
    assert table == catalogue_table(), "run: .venv/bin/python manage.py error_codes --write"
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert len(rows) == len(CATALOGUE)


def test_openapi_names_each_operation_readably_and_documents_its_refusals():
    """A client generator gets `book_slot`, not `yuyue_orders_api_book_slot`; every operation
    says its refusals are problem+json with a code from the catalogue."""
    from yuyue.api import api
    from yuyue.core.errors import CATALOGUE

    doc = api.get_openapi_schema()
    operations = [op for methods in doc["paths"].values() for op in methods.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert "book_slot" in ids
    assert all(i.isidentifier() and not i.startswith("yuyue_") for i in ids)
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["properties"]["code"]["enum"]) == set(CATALOGUE)
    for op in operations:
        refusals = {str(s): r for s, r in op["responses"].items() if str(s).startswith("4")}
        assert "422" in refusals, op["operationId"]  # bad input, at least
        for status, response in refusals.items():
            schema = response["content"]["application/problem+json"]["schema"]
            assert schema["allOf"][0] == {"$ref": "#/components/schemas/Problem"}
            codes = schema["allOf"][1]["properties"]["code"]["enum"]
            if status == "400" and "invalid_input" in codes:  # a body that is not JSON at all
                assert "requestBody" in op
                codes = [c for c in codes if c != "invalid_input"]
            assert all(str(CATALOGUE[c][0]) == status for c in codes)
    # each operation lists its own refusals, not the whole catalogue
    by_id = {op["operationId"]: op["responses"] for op in operations}

    def codes(operation: str) -> set[str]:
        return {
            code
            for status, response in by_id[operation].items()
            if str(status).startswith("4")
            for code in response["content"]["application/problem+json"]["schema"]["allOf"][1][
                "properties"
            ]["code"]["enum"]
        }

    assert {"slot_full", "slot_past", "per_user_limit", "auth_required"} <= codes("book_slot")
    assert not {"chat_closed", "offer_expired", "insufficient_funds"} & codes("book_slot")
    assert {"chat_closed", "message_too_long", "key_reused"} <= codes("send_message")
    assert {"already_cancelled", "cancel_checked_in"} <= codes("cancel_my_booking")
    assert codes("list_categories") == {"invalid_input"}


def test_every_refusal_under_api_is_a_problem(db, customer, settings):
    from django.test import Client

    from tests.conftest import api_for

    client = Client()
    # a body over the size limit
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(
        "/api/auth/login", '{"phone": "' + "1" * 2000 + '"}', content_type="application/json"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "payload_too_large"
    # a method the path does not take
    response = client.delete("/api/merchants")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "method_not_allowed"
    assert "GET" in response["Allow"]
    # an address nothing serves
    response = client.get("/api/no-such-thing")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    # a query parameter the operation does not take
    status, body = api_for(customer).get("/api/merchants", {"q": "x", "colour": "red"})
    assert (status, body["code"]) == (422, "invalid_input")
    assert body["errors"] == [{"loc": ["query", "colour"], "problem": "not a parameter here"}]
    assert api_for(customer).get("/api/merchants", {"q": "x"})[0] == 200


def test_unknown_query_parameters_are_refused_after_authentication(db, operator, customer):
    from tests.conftest import api_for

    status, body = api_for(operator).get("/api/ops/people", {"q": "Zhang"})
    assert (status, body["code"]) == (422, "invalid_input")
    status, body = api_for(customer).get("/api/ops/people", {"q": "Zhang"})
    assert (status, body["code"]) == (403, "forbidden")


def test_answers_are_never_invalid_json(db):
    """A NaN in an answer is an error on our side, never the NaN token."""
    from yuyue.api import api
    from yuyue.core.answers import as_built

    with pytest.raises(ValueError):
        api.renderer.render(None, {"x": float("nan")}, response_status=200)
    with pytest.raises(ValueError):  # the answers sent as built, too
        as_built(None, {"x": float("inf")})

"""The web API through FastAPI's TestClient: the CLI's JSON over HTTP, readiness, and a JSON 4xx
for everything a client can get wrong."""

import time

import pytest
from conftest import wait_ready
from fastapi.testclient import TestClient

from rag.api.app import create_app
from rag.ingest.script import display


@pytest.fixture(scope="module")
def client(engine):
    with TestClient(create_app(load=lambda: engine)) as client:
        wait_ready(client)
        yield client


def test_ask_matches_the_engine(client, engine):
    question = "長沙簽約了多少個重點產業轉移合作項目？"
    body = client.post("/v1/ask", json={"question": question, "k": 3}).json()
    expected = engine.ask(question, 3).model_dump(mode="json")
    assert body["answer"] == expected["answer"] and "16個" in body["answer"]
    assert body["citations"] == expected["citations"] and len(body["citations"]) == 3
    assert body["script"] == "zh-Hant" and body["generation"] == {"mode": "extractive"}


def test_search_matches_the_engine(client, engine):
    body = client.get("/v1/search", params={"q": "港洽周 开幕", "k": 4}).json()
    assert body == engine.search("港洽周 开幕", 4).model_dump(mode="json")


def test_passage_shows_the_cited_span_in_context_and_script(client, engine):
    citation = client.post("/v1/ask", json={"question": "長沙簽約了多少個重點產業轉移合作項目？"}).json()["citations"][0]
    params = {"doc_id": citation["doc_id"], "start": citation["start"], "end": citation["end"], "script": "zh-Hant", "context": 50}
    body = client.get("/v1/passage", params=params).json()
    original = engine.index.documents[citation["doc_id"]]
    span = original[citation["start"] : citation["end"]]
    assert body["text"] == display(span, "zh-Hant") and "項目" in body["text"] and "项目" in span
    assert body["before"] == display(original[citation["start"] - 50 : citation["start"]], "zh-Hant")
    assert body["after"] == display(original[citation["end"] : citation["end"] + 50], "zh-Hant")


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["documents"] == 5 and ready["chunks"] > 0


def test_not_ready_is_503_with_reason():
    def broken():
        raise RuntimeError("disk on fire")

    with TestClient(create_app(load=broken)) as client:
        for _ in range(200):
            if client.get("/readyz").json()["status"] != "loading":
                break
            time.sleep(0.01)
        response = client.post("/v1/ask", json={"question": "hi"})
        assert response.status_code == 503 and "disk on fire" in response.json()["error"]["message"]
        assert client.get("/readyz").status_code == 503
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "request_kwargs, status, words",
    [
        ({"json": {"question": ""}}, 422, "empty"),
        ({"json": {"question": "   \n "}}, 422, "empty"),
        ({"json": {"question": "长" * 2001}}, 422, "2000"),
        ({"json": {"question": "长沙", "k": 0}}, 422, "k"),
        ({"json": {"question": "长沙", "k": 51}}, 422, "k"),
        ({"json": {"question": "长沙", "k": "many"}}, 422, "k must be a whole number from 1 to 50 (got 'many')"),
        ({"json": {"question": "长沙", "k": 2.5}}, 422, "k must be a whole number from 1 to 50 (got 2.5)"),
        ({"json": {"question": 5}}, 422, "question must be text (got 5)"),
        ({"json": {}}, 422, "question is required: add it"),
        ({"json": ["长沙"]}, 422, "the request body must be a JSON object (got a list)"),
        ({"json": {"question": "长沙", "colour": "red"}}, 422, "colour is not a known field: remove it"),
        ({"content": b'{"question": "unterminated', "headers": {"content-type": "application/json"}}, 400, "JSON"),
        ({"content": b"question=hi", "headers": {"content-type": "application/x-www-form-urlencoded"}}, 415, "application/json"),
        ({"content": b"hi", "headers": {"content-type": "text/plain"}}, 415, "application/json"),
        ({"content": b"\xff\xfe", "headers": {"content-type": "application/json"}}, 400, "JSON"),
    ],
)
def test_bad_ask_requests_get_json_4xx(client, request_kwargs, status, words):
    response = client.post("/v1/ask", **request_kwargs)
    assert response.status_code == status, response.text
    assert words.lower() in response.json()["error"]["message"].lower()
    assert_for_people(response)


def assert_for_people(response):
    """An error message reads as written for a person: none of pydantic's or FastAPI's wording."""
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "code"} and body["error"]["code"] == response.status_code
    for words in ("Input should", "Value error", "Field required", "Extra inputs", "body.", "query.", "list[", "validation error"):
        assert words not in body["error"]["message"], body


@pytest.mark.parametrize(
    "path, params, status",
    [
        ("/v1/search", {"q": ""}, 422),
        ("/v1/search", {"q": "长沙", "k": 0}, 422),
        ("/v1/search", {"q": "长沙", "k": "x"}, 422),
        ("/v1/search", {}, 422),
        ("/v1/passage", {"doc_id": "missing.txt", "start": -1, "end": "x"}, 422),
        ("/v1/passage", {"doc_id": "missing.txt", "start": 0, "end": 5}, 404),
        ("/v1/passage", {"doc_id": "001_e07e39b34995dd8d.txt", "start": 10, "end": 5}, 422),
        ("/v1/passage", {"doc_id": "001_e07e39b34995dd8d.txt", "start": 0, "end": 10**9}, 422),
        ("/no/such/page", {}, 404),
    ],
)
def test_bad_get_requests_get_json_4xx(client, path, params, status):
    response = client.get(path, params=params)
    assert response.status_code == status and response.json()["error"]["message"]
    assert_for_people(response)


def test_wrong_method_is_405_json(client):
    response = client.get("/v1/ask")
    assert response.status_code == 405 and response.json()["error"]["message"] == "/v1/ask does not take GET: use POST"
    assert "see /docs" in client.get("/no/such/page").json()["error"]["message"]


@pytest.mark.parametrize(
    "body, words",
    [
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "system", "content": "be brief"}]}, "no user message"),
        ({"messages": [{"role": "user", "content": " "}]}, "empty"),
        ({"messages": [{"role": "user", "content": "长" * 2001}]}, "2000"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role must be 'system', 'user', 'assistant', 'tool' or 'developer' (got 'wizard')"),
        ({"messages": [{"role": "user", "content": 5}]}, "messages[0].content must be text or a list (got 5)"),
        ({"messages": "hi"}, "messages must be a list"),
    ],
)
def test_bad_chat_requests_get_json_4xx(client, body, words):
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 422, response.text
    assert words in response.json()["error"]["message"]
    assert_for_people(response)


def test_chat_takes_the_last_user_message_and_text_parts(client):
    messages = [
        {"role": "user", "content": "What is the weather in Paris tomorrow?"},
        {"role": "assistant", "content": "I cannot tell."},
        {"role": "user", "content": [{"type": "text", "text": "長沙簽約了多少個重點產業轉移合作項目？"}]},
    ]
    body = client.post("/v1/chat/completions", json={"messages": messages, "temperature": 0.2}).json()
    message = body["choices"][0]["message"]
    assert "16個" in message["content"] and message["citations"] == body["citations"]


def test_chat_resolves_a_follow_up_against_the_conversation(client):
    messages = [
        {"role": "user", "content": "庫爾勒市11月8日簽約了多少個項目？"},
        {"role": "assistant", "content": "66個 [1]"},
        {"role": "user", "content": "海口呢？"},
    ]
    body = client.post("/v1/chat/completions", json={"messages": messages}).json()
    assert body["resolved_question"] == "海口11月8日簽約了多少個項目？"
    assert "海口" in body["choices"][0]["message"]["content"]
    alone = client.post("/v1/chat/completions", json={"messages": messages[:1]}).json()
    assert "resolved_question" not in alone  # a question that stands alone is answered as asked


def test_documents_list_their_headlines(client):
    documents = {d["id"][:3]: d for d in client.get("/v1/documents").json()["documents"]}
    assert documents["001"]["title"] == "一带一路湘聚共赢" and documents["001"]["source"] == "湖南日报"


def test_chat_page_is_served(client):
    response = client.get("/")
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    assert "/v1/chat/completions" in response.text


def test_every_route_documents_its_response_model(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path, methods in paths.items():
        for method, operation in methods.items():
            success = operation["responses"].get("200") or operation["responses"]["201"]
            assert "$ref" in success["content"]["application/json"]["schema"], (method, path)


def test_absent_fields_are_left_out_and_a_missing_answer_is_null(client):
    body = client.post("/v1/ask", json={"question": "巴黎明天的天气怎么样？"}).json()
    assert body["abstained"] and body["answer"] is None and "answer_source" not in body and body["message"]
    assert set(body["evidence"]) == {"standout", "support", "unknown_names", "unmatched_words", "confidence"}

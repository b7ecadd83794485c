"""/docs and /openapi.json show every endpoint with examples, and the examples are true: each
response example is an instance of the model documented for its status, and the answers and
passages shown are what the engine gives now. When an answer changes on purpose, refresh them with
`python -m rag.api.record_examples --write` (rag/api/record_examples.py) and review the diff."""

import json
import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel

from rag.api import examples
from rag.api.app import create_app
from rag.api.routers import chat, documents, health, qa
from rag.api.schemas import AnswerExtras
from rag.ingest.script import display

REFRESH = "stale example: run `python -m rag.api.record_examples --write` and review the diff"
CJK = re.compile(r"[\u4e00-\u9fff]")
ROUTERS = (qa, chat, documents, health)  # the routers of rag/api/app.py with routes in the schema


@pytest.fixture(scope="module")
def app(engine):
    return create_app(load=lambda: engine)


@pytest.fixture(scope="module")
def openapi(app):
    with TestClient(app) as client:
        return client.get("/openapi.json").json()


def operations(openapi):
    for path, methods in openapi["paths"].items():
        if path != "/":
            for method, operation in methods.items():
                yield path, method, operation


def response_examples(operation, media_type="application/json"):
    """(status, name, value) of every example of `operation`'s responses in `media_type`."""
    for status, response in operation["responses"].items():
        for name, example in response.get("content", {}).get(media_type, {}).get("examples", {}).items():
            yield int(status), name, example["value"]


def recorded(operation_name, status=200, media_type="application/json"):
    return {name: example["value"] for name, example in examples.RECORDED["responses"][operation_name][str(status)][media_type].items()}


def without_nulls(value):
    """`value` as FastAPI shows it in /openapi.json: without null object members (fastapi/fastapi#5559)."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def test_every_route_shows_request_and_response_examples(openapi):
    seen = set()
    for path, method, operation in operations(openapi):
        where = f"{method.upper()} {path}"
        seen.add(where)
        assert operation.get("summary") and operation.get("description"), where
        body = operation.get("requestBody")
        if body:
            shown = [example["value"] for example in body["content"]["application/json"].get("examples", {}).values()]
            assert shown, f"{where}: no request example"
            texts = [json.dumps(value, ensure_ascii=False) for value in shown]
            assert any(CJK.search(t) for t in texts) and any(not CJK.search(t) for t in texts), f"{where}: needs an English and a Chinese request example"
        for parameter in operation.get("parameters", []):
            assert parameter.get("examples"), f"{where}: no example for {parameter['name']}"
        success = next(code for code in ("200", "201") if code in operation["responses"])
        assert any(status == int(success) for status, _, _ in response_examples(operation)), f"{where}: no example of its {success} response"
    assert {"POST /v1/ask", "GET /v1/search", "GET /v1/passage", "POST /v1/chat/completions", "GET /v1/documents", "POST /v1/documents"} <= seen


def test_search_queries_are_shown_in_english_and_chinese(openapi):
    (q,) = [p for p in openapi["paths"]["/v1/search"]["get"]["parameters"] if p["name"] == "q"]
    values = [example["value"] for example in q["examples"].values()]
    assert any(CJK.search(v) for v in values) and any(not CJK.search(v) for v in values)


def test_the_follow_up_conversation_is_shown(openapi):
    shown = openapi["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    messages = shown["follow_up"]["value"]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[0]["content"] == "長沙簽約了多少個重點產業轉移合作項目？" and messages[2]["content"] == "海口呢？"


def test_response_examples_are_instances_of_their_models(openapi):
    routes = {(route.path, method.lower()): route for module in ROUTERS for route in module.router.routes if isinstance(route, APIRoute) for method in route.methods}
    checked = 0
    for path, method, operation in operations(openapi):
        route = routes.get((path, method))
        assert route, f"{method.upper()} {path}: add its router to ROUTERS"
        for status, name, shown in response_examples(operation):
            where = f"{method.upper()} {path} {status} {name}"
            value = recorded(route.name, status)[name]
            assert shown == without_nulls(value), f"{where}: the docs show something else than rag/api/examples.json"
            declared = route.responses.get(status, {}).get("model")
            model = declared or (route.response_model if status == (route.status_code or 200) else None)
            assert isinstance(model, type) and issubclass(model, BaseModel), f"{where}: no model documented"
            model.model_validate(value)
            assert set(value) <= set(model.model_fields), f"{where}: fields {set(value) - set(model.model_fields)} are not in {model.__name__}"
            if model is examples.ErrorResponse:
                assert value["error"]["code"] == status >= 400, where
            checked += 1
    assert checked >= 30


def test_citations_in_the_examples_carry_their_article(openapi):
    for name, value in recorded("ask").items():
        for citation in value["citations"] + value.get("closest_passages", []):
            assert citation["title"] and "doc_id" in citation, name
    follow_up = recorded("chat_completions")["follow_up"]
    assert follow_up["resolved_question"] and follow_up["choices"][0]["message"]["resolved_question"] == follow_up["resolved_question"]


def test_the_streamed_example_is_server_sent_events():
    (stream,) = recorded("chat_completions", media_type="text/event-stream").values()
    events = [line.removeprefix("data: ") for line in stream.split("\n") if line]
    assert events[-1] == "[DONE]" and all(line.startswith("data: ") for line in stream.split("\n") if line)
    chunks = [json.loads(event) for event in events[:-1]]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    AnswerExtras.model_validate(chunks[-1])


def test_the_answers_shown_are_what_the_engine_answers(engine):
    shown = recorded("ask")
    assert {"english", "simplified", "traditional"} <= set(shown)
    for name, value in shown.items():
        asked = examples.ASK[name]["value"]
        assert value["question"] == asked["question"], name
        now = engine.ask(asked["question"], asked.get("k"))
        assert now.answer == value["answer"] and now.abstained == value["abstained"] and now.script == value["script"], f"{name}: {REFRESH}"
        assert [c.chunk_id for c in now.citations[: len(value["citations"])]] == [c["chunk_id"] for c in value["citations"]], f"{name}: {REFRESH}"


def test_the_chat_replies_shown_are_what_the_engine_answers(engine):
    replies = recorded("chat_completions")
    for name, reply in replies.items():
        messages = examples.CHAT[name]["value"]["messages"]
        question = reply.get("resolved_question") or messages[-1]["content"]
        now = engine.ask(question)
        assert reply["choices"][0]["message"]["content"] == (now.message if now.abstained else now.answer), f"{name}: {REFRESH}"
    assert replies["follow_up"]["resolved_question"] == "海口簽約了多少個重點產業轉移合作項目？"
    (stream,) = recorded("chat_completions", media_type="text/event-stream").values()
    content = "".join(json.loads(line[6:])["choices"][0]["delta"].get("content", "") for line in stream.split("\n") if line.startswith("data: {"))
    assert content == engine.ask(examples.CHAT["stream"]["value"]["messages"][-1]["content"]).answer, REFRESH


def test_the_searches_and_passages_shown_are_the_engines(engine):
    for name, value in recorded("search").items():
        now = engine.search(examples.SEARCH_Q[name]["value"], examples.SEARCH_SHOWN_K)
        assert [c.chunk_id for c in now.results] == [c["chunk_id"] for c in value["results"]], f"{name}: {REFRESH}"
    cited = engine.ask(examples.ASK[examples.PASSAGE_FROM[1]]["value"]["question"]).citations[0]
    assert examples.RECORDED["passage"] == {"doc_id": cited.doc_id, "start": cited.start, "end": cited.end}, REFRESH
    for name, value in recorded("passage").items():
        original = engine.index.documents[value["doc_id"]]
        assert value["text"] == display(original[value["start"] : value["end"]], examples.PASSAGE_SCRIPT[name]["value"]), f"{name}: {REFRESH}"

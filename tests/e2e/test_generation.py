"""Generated answers from an OpenAI-compatible server (faked with httpx.MockTransport): every [n]
is checked against the passages given, and any failure falls back to the extractive answer."""

import json

import httpx
import pytest
from conftest import wait_ready
from fastapi.testclient import TestClient

from rag.answering.generation import GenerationError, Generator, checked, with_generated_answer
from rag.api.app import create_app
from rag.results import Generation
from rag.settings import LLMSettings, load_settings

SETTINGS = LLMSettings(base_url="http://llm.test/v1", model="tiny", api_key="secret", timeout=2.0)
QUESTION = "How many projects were signed in Changsha?"


def fake_llm(reply=None, error: Exception | None = None, seen: list | None = None) -> Generator:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if error:
            raise error
        return httpx.Response(200, json={"choices": [{"message": {"role": "assistant", "content": reply}}]})

    return Generator(SETTINGS, httpx.Client(transport=httpx.MockTransport(handle)))


def test_good_reply_replaces_the_extractive_answer_and_sees_the_passages(engine):
    seen = []
    result = with_generated_answer(engine.ask(QUESTION), fake_llm("Sixteen projects were signed [2].", seen=seen))
    assert result.answer == "Sixteen projects were signed [2]."
    assert "16个" in result.extractive_answer
    assert result.generation == Generation(mode="llm", model="tiny")
    sent = json.loads(seen[0].content)
    assert seen[0].url == "http://llm.test/v1/chat/completions" and seen[0].headers["authorization"] == "Bearer secret"
    prompt = sent["messages"][-1]["content"]
    assert QUESTION in prompt and all(f"[{c.rank}]" in prompt and c.display_text in prompt for c in result.citations)


@pytest.mark.parametrize(
    "reply, error, reason",
    [
        ("Sixteen projects [9].", None, "not given: [9]"),
        ("Sixteen projects [0] and [2].", None, "not given: [0]"),
        ("Sixteen projects.", None, "cites no passage"),
        ("", None, "empty"),
        (None, None, "empty"),
        (None, httpx.ReadTimeout("slow"), "no reply within 2 s"),
        (None, httpx.ConnectError("refused"), "server unavailable"),
    ],
)
def test_unusable_replies_fall_back_to_the_extractive_answer(engine, reply, error, reason):
    extractive = engine.ask(QUESTION)
    result = with_generated_answer(extractive, fake_llm(reply, error))
    assert result.answer == extractive.answer and "16个" in result.answer
    assert result.generation.mode == "extractive" and reason in result.generation.note


def test_malformed_server_reply_falls_back(engine):
    generator = Generator(SETTINGS, httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<html>"))))
    result = with_generated_answer(engine.ask(QUESTION), generator)
    assert "malformed" in result.generation.note


def test_abstention_is_not_sent_to_the_model(engine):
    seen = []
    result = with_generated_answer(engine.ask("巴黎明天的天气怎么样？"), fake_llm("Sunny [1].", seen=seen))
    assert result.abstained and result.answer is None and not seen


def test_checked_accepts_only_given_passages():
    assert checked(" A [1][3]. ", 3) == "A [1][3]."
    with pytest.raises(GenerationError):
        checked("A [4].", 3)


def test_settings_from_environment(monkeypatch):
    monkeypatch.delenv("RAG_LLM_BASE_URL", raising=False)
    assert load_settings().llm is None
    monkeypatch.setenv("RAG_LLM_BASE_URL", "http://localhost:11434/v1/")
    monkeypatch.setenv("RAG_LLM_MODEL", "qwen2.5")
    assert load_settings().llm == LLMSettings(base_url="http://localhost:11434/v1", model="qwen2.5", api_key="", timeout=20.0)
    monkeypatch.setenv("RAG_LLM_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="RAG_LLM_TIMEOUT"):
        load_settings()


def test_chat_endpoint_reports_generation_and_fallback(engine):
    app = create_app(load=lambda: engine, generator=fake_llm(None, httpx.ConnectError("refused")))
    with TestClient(app) as client:
        wait_ready(client)
        body = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTION}]}).json()
    assert "16个" in body["choices"][0]["message"]["content"]
    assert "extractive answer" in body["generation"]["note"]

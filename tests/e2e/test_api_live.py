"""The live server on 127.0.0.1 driven by the official `openai` client, streaming and not: the
citations must survive both."""

import openai
import pytest


@pytest.fixture(scope="module")
def client(live_server):
    return openai.OpenAI(base_url=f"{live_server}/v1", api_key="unused", max_retries=0, timeout=60)


QUESTION = "How many projects were signed in Changsha?"


def test_non_streaming_completion_carries_citations(client, engine):
    completion = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": QUESTION}])
    message = completion.choices[0].message
    assert "16个" in message.content and completion.choices[0].finish_reason == "stop"
    citations = message.model_extra["citations"]
    assert citations == [c.model_dump(mode="json") for c in engine.ask(QUESTION).citations]
    source = message.model_extra["answer_source"]
    assert citations[source["citation"] - 1]["doc_id"] == source["doc_id"]


def test_streaming_completion_carries_citations_on_the_final_chunk(client, engine):
    stream = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": QUESTION}], stream=True)
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == engine.ask(QUESTION).answer
    assert len(chunks) > 3  # really streamed in pieces
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    assert final.model_extra["citations"] == [c.model_dump(mode="json") for c in engine.ask(QUESTION).citations]
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])


def test_abstention_reaches_chat_clients(client):
    completion = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": "巴黎明天的天气怎么样？"}])
    message = completion.choices[0].message
    assert message.model_extra["abstained"] is True
    assert message.content == "语料中没有提到巴黎。"  # the abstention names what the corpus lacks


def test_client_errors_raise_readable_exceptions(client):
    with pytest.raises(openai.UnprocessableEntityError, match="empty"):
        client.chat.completions.create(model="rag", messages=[{"role": "user", "content": "  "}])
    with pytest.raises(openai.UnprocessableEntityError, match="2000"):
        client.chat.completions.create(model="rag", messages=[{"role": "user", "content": "问" * 2001}], stream=True)

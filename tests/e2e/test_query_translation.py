"""English questions with a language model configured: translated into Chinese (a fake
OpenAI-compatible server, httpx.MockTransport) and searched both ways; any failure of the model
leaves the question searched as asked. And the learned query map, with the real model."""

import json
from pathlib import Path

import httpx
import numpy as np
import pytest

from rag.analysis.question import QuestionAnalyser
from rag.crosslingual.query_map import SHIPPED, QueryMap
from rag.crosslingual.translation import QueryTranslator
from rag.llm import ChatClient
from rag.search.retriever import Method
from rag.settings import LLMSettings, load_settings

LLM = LLMSettings(base_url="http://llm.test/v1", model="tiny", api_key="", timeout=5.0)
QUESTION = "How many key industrial transfer projects did Changsha sign?"
TRANSLATION = "长沙签约了多少个重点产业转移合作项目？"
ROOT = Path(__file__).parents[2]


def translator(reply=None, error: Exception | None = None, seen: list | None = None) -> QueryTranslator:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(json.loads(request.content))
        if error:
            raise error
        return httpx.Response(200, json={"choices": [{"message": {"role": "assistant", "content": reply}}]})

    return QueryTranslator(ChatClient(LLM, httpx.Client(transport=httpx.MockTransport(handle))), timeout=1.5)


def analyser_with(engine, query_translator) -> QuestionAnalyser:
    analyser = QuestionAnalyser(engine.index, engine.embedder, engine.settings)
    analyser.translator = query_translator
    return analyser


def test_an_english_question_is_searched_in_its_translation_too(engine):
    seen = []
    question = analyser_with(engine, translator(f"“{TRANSLATION}”", seen=seen)).analyse(QUESTION)
    assert seen and seen[0]["messages"][-1]["content"] == QUESTION and seen[0]["temperature"] == 0
    assert question.translation == TRANSLATION and len(question.searches) == 2
    assert "长沙" in "".join(question.translation_tokens)
    hits = engine.retriever.search(question, 5, Method.HYBRID)
    top = engine.index.chunks[hits[0].chunk]
    assert "16个" in engine.index.documents[top.doc_id][top.start : top.end]
    answer = engine.extractor.answer(question, hits)
    assert answer.sentence and "16个" in answer.sentence.text


def test_a_chinese_question_is_not_sent_for_translation(engine):
    seen = []
    question = analyser_with(engine, translator(TRANSLATION, seen=seen)).analyse(TRANSLATION)
    assert not seen and question.translation is None and len(question.searches) == 1


@pytest.mark.parametrize(
    "reply, error",
    [
        (None, httpx.ReadTimeout("slow")),
        (None, httpx.ConnectError("refused")),
        ("", None),
        ("Changsha signed 16 projects.", None),  # not Chinese: an answer, not a translation
        ("长沙" * 200, None),  # far longer than any question
    ],
)
def test_without_a_usable_translation_the_question_is_searched_as_asked(engine, reply, error):
    plain = engine.analyse(QUESTION)
    question = analyser_with(engine, translator(reply, error)).analyse(QUESTION)
    assert question.translation is None and len(question.searches) == 1
    as_asked = [h.chunk for h in engine.retriever.search(plain, 5)]
    assert [h.chunk for h in engine.retriever.search(question, 5)] == as_asked


def test_translation_follows_the_llm_settings():
    assert QueryTranslator.of(load_settings()) is None
    configured = load_settings(llm_base_url="http://llm.test/v1")
    assert QueryTranslator.of(configured) is not None
    assert QueryTranslator.of(configured.with_overrides(llm_translate_queries=False)) is None


def dev_pairs(limit: int) -> tuple[list[str], list[str]]:
    """English/Chinese question pairs of the public sets' dev split (never trained on)."""
    import runpy

    build = runpy.run_path(str(ROOT / "eval/public/build.py"), run_name="__build__")
    build["main"]([])
    pairs = build["question_pairs"](ROOT / "eval/public/build", "drcd", "dev")[:limit]
    return [e for e, _, _ in pairs], [z for _, z, _ in pairs]


def test_the_map_brings_unseen_english_questions_closer_to_their_chinese_originals(engine):
    english, chinese = dev_pairs(40)
    analyser = engine.analyser
    raw = np.stack([analyser.analyse(q).vector for q in english])  # the question's own vector stays unmapped
    mapped = np.stack([analyser.query_map.apply(v) for v in raw])
    target = engine.embedder.embed_queries([analyser.analyse(q).form for q in chinese])
    before, after = np.mean(np.sum(raw * target, 1)), np.mean(np.sum(mapped * target, 1))
    assert after > before + 0.04, (before, after)


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_map(tmp_path):
    import runpy

    out = tmp_path / "query_map.npz"
    runpy.run_path(str(ROOT / "train/query_map.py"), run_name="__train__")["main"](["--out", str(out)])
    shipped, retrained = QueryMap.load(SHIPPED), QueryMap.load(out)
    assert retrained.meta == shipped.meta
    np.testing.assert_allclose(retrained.matrix, shipped.matrix, atol=1e-4)

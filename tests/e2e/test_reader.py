"""The learned reader on the real corpus: the shipped weights, short answers, and abstentions that
say why and do not pass the closest passages off as support."""

from pathlib import Path

import numpy as np
import pytest

from rag.answering.features import AskedFor, question_marks, span_candidates
from rag.answering.reader import MODELS, SHIPPED, QuestionSignals, ReaderModels, choose, sentence_candidates, shipped_models, span_rows
from rag.checksums import data_checksum

ROOT = Path(__file__).parents[2]
TRAINING_DATA = [ROOT / "eval/public/translations.en.tsv", *sorted((ROOT / "eval/public/source").glob("*.json"))]
HEADLINE = ("长沙签约了多少个项目？", "長沙簽約了多少個項目？", "How many projects were signed in Changsha?")


def test_the_shipped_reader_is_small_and_was_trained_on_the_data_in_the_repo():
    models = shipped_models()
    assert SHIPPED.stat().st_size < 2_000_000
    assert models.about["data"] == data_checksum(TRAINING_DATA)
    for linear in (models.span, models.sentence, models.decision):
        assert linear.weights.shape == linear.mean.shape == linear.scale.shape and np.isfinite(linear.weights).all()


def test_the_shipped_weights_fit_the_features_the_code_makes(engine):
    question = engine.analyse(HEADLINE[0])
    text = "长沙集中签约16个重点产业转移合作项目，总投资额达343.8亿元。"
    rows = span_rows(text, question_marks(text, question), AskedFor.of(question), False, span_candidates(text))
    assert rows.shape[1] == len(shipped_models().span.weights)
    candidates = sentence_candidates(engine.index, question, engine.retriever.search(question, 3), shipped_models().span)
    assert len(candidates[0].rows) * 2 == len(shipped_models().sentence.weights)


@pytest.mark.parametrize("question", HEADLINE)
def test_the_headline_question_is_answered_with_the_count_in_every_script(engine, question):
    result = engine.ask(question)
    assert not result.abstained and "16" in result.answer_span.text, result.answer
    span, source = result.answer_span, result.answer_source
    original = engine.index.documents[source.doc_id]
    assert source.start <= span.start < span.end <= source.end  # inside the quoted sentence
    assert "16" in original[span.start : span.end]


def test_an_abstention_lists_the_closest_passages_as_such_and_says_why(engine):
    result = engine.ask("What is the weather in Paris tomorrow?")
    assert result.abstained and result.answer is None and result.answer_span is None
    assert result.citations == [] and result.closest_passages and result.message
    assert 0 <= result.evidence.confidence <= 1


def test_confidence_falls_when_the_best_passage_does_not_stand_out(engine):
    question = engine.analyse(HEADLINE[0])
    hits = engine.retriever.search(question, 10)
    evidence = engine.extractor.answer(question, hits).evidence
    candidates = sentence_candidates(engine.index, question, hits[:3], shipped_models().span)
    confident = choose(shipped_models(), QuestionSignals.of(question, evidence), candidates, set()).confidence
    weak = QuestionSignals.of(question, evidence.model_copy(update={"standout": 0.0}))
    assert choose(shipped_models(), weak, candidates, set()).confidence < confident


def test_no_sentence_ends_at_a_pdf_line_break(engine):
    result = engine.ask("吉利汽车哪一年落户湘潭？")
    assert not result.abstained and "累计投资超过240亿元" in result.answer, result.answer


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_reader(tmp_path):
    import runpy

    out = tmp_path / "reader.npz"
    runpy.run_path(str(ROOT / "train/reader.py"), run_name="__train__")["main"](["--out", str(out), "--cache", str(tmp_path / "cache")])
    shipped, retrained = shipped_models(), ReaderModels.load(out)
    assert retrained.about == shipped.about
    for name in MODELS:
        np.testing.assert_allclose(getattr(retrained, name).weights, getattr(shipped, name).weights, atol=1e-6)

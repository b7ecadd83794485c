"""The QA sets are data we grade ourselves with, so they are checked like code: every evidence phrase
really occurs in its document, every answer really occurs in its evidence, the dev set has the
shape the evaluation claims (languages in thirds, cross-script questions, unanswerables) and the
held-out set asks about other facts than the dev set."""

import re
from collections import Counter
from pathlib import Path

import pytest

from rag.evaluation.dataset import LANGS, load_qa
from rag.evaluation.metrics import fold
from rag.ingest.script import EN, HANS, HANT, detect_script

ROOT = Path(__file__).parents[2]
ITEMS = load_qa(ROOT / "eval" / "qa.jsonl")
ANSWERABLE = [i for i in ITEMS if i.answerable]
HOLDOUT = load_qa(ROOT / "eval" / "holdout.jsonl")


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_size_and_unique_ids():
    assert len(ITEMS) >= 80
    assert len({i.id for i in ITEMS}) == len(ITEMS)
    assert len({i.question for i in ITEMS}) == len(ITEMS)


def test_languages_in_thirds_and_declared_correctly():
    counts = Counter(i.lang for i in ITEMS)
    assert set(counts) == set(LANGS)
    assert all(n >= 0.28 * len(ITEMS) for n in counts.values()), counts
    for item in ITEMS:
        assert detect_script(item.question) == {"en": EN, "zh-Hans": HANS, "zh-Hant": HANT}[item.lang], item.id


def test_enough_unanswerable_questions_per_language():
    unanswerable = [i for i in ITEMS if not i.answerable]
    assert len(unanswerable) >= 10
    assert {i.lang for i in unanswerable} == set(LANGS)
    assert all(not i.answers and not i.evidence for i in unanswerable)


def test_at_least_twenty_cross_script_questions():
    """A Chinese question whose evidence is in the other script (Traditional asking Simplified text
    or the reverse): the case OpenCC folding exists for."""
    cross = [i for i in ANSWERABLE if i.lang != EN and detect_script(i.evidence[0]) != i.lang]
    assert len(cross) >= 20, len(cross)


@pytest.mark.parametrize("item", ANSWERABLE + [i for i in HOLDOUT if i.answerable], ids=lambda i: i.id)
def test_evidence_occurs_in_its_document_and_holds_an_answer(item):
    text = squash((ROOT / "corpus" / item.doc).read_text(encoding="utf-8"))
    assert item.evidence and item.answers
    for phrase in item.evidence:
        assert squash(phrase) in text, phrase
    assert any(fold(a) in fold(e) for a in item.answers for e in item.evidence)


def test_every_document_is_asked_about():
    corpus = {p.name for p in (ROOT / "corpus").iterdir() if p.suffix in (".txt", ".md")}
    assert {i.doc for i in ANSWERABLE} == corpus


def test_holdout_is_mostly_english_and_asks_other_facts():
    assert len(HOLDOUT) >= 40 and sum(i.lang == EN for i in HOLDOUT) >= 0.7 * len(HOLDOUT)
    assert {i.id for i in HOLDOUT}.isdisjoint(i.id for i in ITEMS)
    for item in HOLDOUT:
        assert detect_script(item.question) == {"en": EN, "zh-Hans": HANS, "zh-Hant": HANT}[item.lang], item.id
    dev_facts = {(i.doc, fold(a)) for i in ANSWERABLE for a in i.answers}
    assert not [i.id for i in HOLDOUT for a in i.answers if (i.doc, fold(a)) in dev_facts]

"""The learned reader: which sentence of the top passages answers the question, which short span
of it is the answer, and whether the evidence is strong enough to answer at all.

Three small linear models over the features of rag/answering/features.py, fitted on the public
reading-comprehension sets by train/reader.py (rag/answering/reader.npz, a few kB):
- span: a softmax over a sentence's candidate spans (the count with its unit, the date, the name);
- sentence: a softmax over the candidate sentences of the top passages;
- decision: a logistic answer/abstain decision over the evidence, fitted against questions asked
  of a corpus without their paragraph. Its probability is the answer's reported confidence; it
  gates only from `answer_threshold` up, as the hand rules abstain better on held-out news
  questions (rag/answering/extract.py, README "Answers").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from rag.analysis.question import Question
from rag.answering.features import (
    AskedFor,
    TermOverlap,
    question_marks,
    sentence_features,
    span_candidates,
    span_features,
    span_summary,
    with_language,
)
from rag.answering.fit import fits
from rag.index.index import Index
from rag.results import Evidence
from rag.search.retriever import Hit
from rag.store.base import Part

SHIPPED = Path(__file__).with_name("reader.npz")
MODELS = ("span", "sentence", "decision")
SENTENCE_EVIDENCE = 14  # leading sentence features the decision reads: retrieval scores, term shares, value fit


@dataclass(frozen=True)
class Linear:
    """Scores rows of features: standardised, then a weighted sum."""

    weights: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    bias: float = 0.0

    def scores(self, rows: np.ndarray) -> np.ndarray:
        return ((rows - self.mean) / self.scale) @ self.weights + self.bias


@dataclass(frozen=True)
class ReaderModels:
    span: Linear
    sentence: Linear
    decision: Linear
    about: dict = field(default_factory=dict)  # training data checksum, sizes, dev figures

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {f"{name}_{part}": np.asarray(getattr(getattr(self, name), part)) for name in MODELS for part in ("weights", "mean", "scale", "bias")}
        arrays["about"] = np.asarray(json.dumps(self.about, sort_keys=True))
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> ReaderModels:
        with np.load(path) as f:
            parts = {name: Linear(f[f"{name}_weights"], f[f"{name}_mean"], f[f"{name}_scale"], float(f[f"{name}_bias"])) for name in MODELS}
            return cls(**parts, about=json.loads(str(f["about"])))


@lru_cache(maxsize=1)
def shipped_models() -> ReaderModels:
    return ReaderModels.load(SHIPPED)


@dataclass
class SentenceCandidate:
    """A sentence of one of the top passages, its candidate answer spans with their scores, and
    the sentence's features."""

    hit_rank: int  # 1-based rank of its passage
    sentence: int  # position in index.sentences
    text: str  # search form
    spans: list[tuple[int, int, int, int, int]]  # see features.span_candidates
    span_scores: np.ndarray
    base: list[float]  # features.sentence_features

    @property
    def rows(self) -> list[float]:
        """The sentence's features, its best span's score included."""
        return self.base + span_summary(self.span_scores)


@dataclass(frozen=True)
class Reading:
    """The reader's choice for one question. `span` is [start, end) within the sentence's text."""

    sentence: SentenceCandidate
    span: tuple[int, int] | None
    confidence: float  # the decision's probability that the evidence supports an answer


class Reader:
    def __init__(self, index: Index, models: ReaderModels, answer_chunks: int):
        self.index, self.models, self.answer_chunks = index, models, answer_chunks

    def read(self, question: Question, hits: list[Hit], evidence: Evidence) -> Reading | None:
        candidates = sentence_candidates(self.index, question, hits[: self.answer_chunks], self.models.span)
        kinds = set(question.kinds) if question.wants_value else set()
        if kinds:  # a hand rule kept: a how-many answer must carry a count, in its sentence and its span (README "Answers")
            candidates = [c for c in candidates if fits(c.text, kinds) == 1] or candidates
        return choose(self.models, QuestionSignals.of(question, evidence), candidates, kinds) if candidates else None


def span_rows(sentence: str, marks: np.ndarray, asked: AskedFor, english: bool, spans: list[tuple[int, int, int, int, int]]) -> np.ndarray:
    """The features of a sentence's candidate spans for a question (`marks`: question_marks)."""
    return with_language(span_features(sentence, marks, asked, spans), english).astype(np.float32)


def passage_sentences(index: Index, hits: list[Hit]) -> dict[int, int]:
    """Each sentence of the passages `hits`, once, with the rank of the first passage holding it."""
    found: dict[int, int] = {}
    for rank, hit in enumerate(hits, start=1):
        for sentence in index.chunk_sentences[hit.chunk]:
            found.setdefault(sentence, rank)
    return found


def sentence_candidates(index: Index, question: Question, hits: list[Hit], span_model: Linear) -> list[SentenceCandidate]:
    """Every sentence of the passages `hits` (once), its spans scored by `span_model`."""
    found = passage_sentences(index, hits)
    if not found:
        return []
    cosines = index.store.vectors(Part.SENTENCES, list(found)) @ question.vector
    best = float(cosines.max())
    asked = AskedFor.of(question)
    terms = list(dict.fromkeys(question.tokens))
    overlap = TermOverlap(terms, index.bm25.idf(terms), index.tokenize)
    top = hits[0]
    out = []
    for (sentence, rank), cosine in zip(found.items(), cosines.tolist()):
        hit = hits[rank - 1]
        text = index.sentence_text(sentence)
        spans = span_candidates(text)
        marks = question_marks(text, question)
        scores = span_model.scores(span_rows(text, marks, asked, not question.chinese, spans)) if spans else np.zeros(0)
        retrieval = [
            cosine,
            cosine - best,
            hit.score / top.score if top.score else 0.0,
            hit.dense,
            hit.lexical / top.lexical if top.lexical else 0.0,
            overlap.share(text),
            overlap.share(previous_sentence(index, sentence)),  # it often names what this sentence is about
        ]
        base = sentence_features(text, index.chunks[hit.chunk].search_text, question, marks, retrieval, rank)
        out.append(SentenceCandidate(rank, sentence, text, spans, scores, base))
    return out


def previous_sentence(index: Index, sentence: int) -> str:
    """The sentence before, in the same document ("" for the first): it often names what the answer's sentence is about."""
    if sentence == 0 or index.sentences[sentence - 1].doc_id != index.sentences[sentence].doc_id:
        return ""
    return index.sentence_text(sentence - 1)


def sentence_rows(candidates: list[SentenceCandidate], english: bool) -> np.ndarray:
    return with_language(np.asarray([c.rows for c in candidates]), english)


def choose(models: ReaderModels, signals: QuestionSignals, candidates: list[SentenceCandidate], value_kinds: set[str]) -> Reading:
    """The best sentence, its best span (the best that carries a value of `value_kinds`, when one
    does), and the decision's confidence in them."""
    rows = sentence_rows(candidates, signals.english)
    logits = models.sentence.scores(rows)
    best = int(np.argmax(logits))
    chosen = candidates[best]
    span, span_probability = None, 0.0
    if len(chosen.span_scores):
        ranked = np.argsort(-chosen.span_scores, kind="stable").tolist()
        fitting = (i for i in ranked if value_kinds and fits(chosen.text[chosen.spans[i][0] : chosen.spans[i][1]], value_kinds) == 1)
        top = next(fitting, ranked[0])
        span, span_probability = chosen.spans[top][:2], float(softmax(chosen.span_scores)[top])
    decision = decision_features(signals, logits, rows[best], span_probability)
    confidence = float(sigmoid(models.decision.scores(decision[None, :]))[0])
    return Reading(chosen, span, confidence)


@dataclass(frozen=True)
class QuestionSignals:
    """What the decision knows of the question itself, apart from any passage."""

    english: bool
    standout: float  # z-score of the best cosine against typical passages (abstention.standout)
    unknown_names: bool  # a name of a Chinese question that no passage contains
    unmatched_share: float  # share of an English question's subject words that reach no corpus word
    no_subject: bool  # nothing to find an answer about ("what is it?")
    wants_kind: bool  # asks for a count, an amount, a date, a person ...

    @classmethod
    def of(cls, question: Question, evidence: Evidence) -> QuestionSignals:
        return cls(not question.chinese, evidence.standout, bool(evidence.unknown_names), evidence.unmatched_share, not question.subject.groups, bool(question.kinds))


def decision_features(signals: QuestionSignals, sentence_logits: np.ndarray, chosen_row: np.ndarray, span_probability: float) -> np.ndarray:
    """The evidence one answer/abstain decision weighs: how far the best passage stands out, how
    sure the sentence and span choices are, how much of the question the chosen sentence holds,
    and which of the question's words or names the corpus lacks."""
    ordered = np.sort(sentence_logits)[::-1]
    margin = float(ordered[0] - ordered[1]) if len(ordered) > 1 else 5.0
    raw = [
        signals.standout,
        float(softmax(sentence_logits).max()),
        float(ordered[0]),
        margin,
        span_probability,
        *chosen_row[:SENTENCE_EVIDENCE].tolist(),
        float(signals.unknown_names),
        signals.unmatched_share,
        float(signals.no_subject),
        float(signals.wants_kind),
    ]
    return with_language(np.asarray([raw]), signals.english)[0]


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))

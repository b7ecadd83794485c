"""Extractive answers: the sentence of the top passages that answers the question, the short span
of it that is the answer, or an abstention; chosen by the learned reader (rag/answering/reader.py).

Faithful by construction: the answer is a sentence of the corpus (repaired of PDF artefacts and
shown in the reader's script), never generated text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property, partial

import numpy as np

from rag.analysis.question import Question
from rag.answering.abstention import background_sample, gather_evidence, too_weak
from rag.answering.fit import fits
from rag.answering.reader import Reader, ReaderModels, shipped_models
from rag.index.index import Index
from rag.results import Evidence
from rag.search.retriever import Hit
from rag.settings import Settings
from rag.store.base import Part


class Abstention(StrEnum):
    """Why an answer is withheld (rag/answering/messages.py says it to the reader)."""

    NOTHING_FOUND = "nothing_found"  # no passage at all
    UNKNOWN_WORDS = "unknown_words"  # names or words of the question the corpus never uses
    NO_SUBJECT = "no_subject"  # "what is it?": nothing to find an answer about
    NO_VALUE = "no_value"  # a count, amount or date is asked for and the sentence holds none
    WEAK = "weak"  # the closest passages do not support an answer


@dataclass(frozen=True)
class Span:
    """A stretch of one document: search-form offsets, original offsets and the repaired text."""

    doc_id: str
    start: int  # original offsets
    end: int
    text: str  # the original characters, without PDF artefacts


@dataclass(frozen=True)
class Answer:
    """The chosen sentence and short answer (None when abstaining) and the evidence they were judged on."""

    sentence: Span | None = None
    span: Span | None = None  # the short answer inside the sentence, when the reader finds one
    rank: int | None = None  # the hit the answer comes from (1-based)
    evidence: Evidence | None = None
    why_not: Abstention | None = None  # why there is no answer


class AnswerExtractor:
    def __init__(self, index: Index, settings: Settings, models: ReaderModels | None = None):
        self.index, self.settings = index, settings
        self._models = models
        self._background: np.ndarray | None = None

    @cached_property
    def models(self) -> ReaderModels:
        return self._models or shipped_models()

    @cached_property
    def reader(self) -> Reader:
        return Reader(self.index, self.models, self.settings.answer_chunks)

    def answer(self, question: Question, hits: list[Hit]) -> Answer:
        if not hits:
            return Answer(why_not=Abstention.NOTHING_FOUND)
        evidence = gather_evidence(question, max(h.dense for h in hits), self.background, self.index.chunks[hits[0].chunk].search_text)
        reading = self.reader.read(question, hits, evidence)
        if reading is None:
            return Answer(evidence=evidence, why_not=Abstention.NOTHING_FOUND)
        chosen = reading.sentence
        passage = self.index.chunks[hits[chosen.hit_rank - 1].chunk].search_text
        evidence = evidence.model_copy(update={"support": question.subject.support(passage), "confidence": reading.confidence})
        why_not = self.why_not(question, evidence, chosen.text, reading.confidence)
        if why_not is not None:
            return Answer(evidence=evidence, why_not=why_not)
        sentence = self.index.sentences[chosen.sentence]
        span = None
        if reading.span is not None:
            span = self.stretch(sentence.doc_id, sentence.search_start + reading.span[0], sentence.search_start + reading.span[1])
        return Answer(self.stretch(sentence.doc_id, sentence.search_start, sentence.search_end), span, chosen.hit_rank, evidence)

    def why_not(self, question: Question, evidence: Evidence, sentence: str, confidence: float) -> Abstention | None:
        """Why the chosen sentence may not be given as the answer, or None. The hand rules
        (rag/answering/abstention.py) decide: on held-out news questions they beat the learned
        decision, which gates only from `answer_threshold` up (off by default)."""
        value_found = question.wants_value and fits(sentence, set(question.kinds)) == 1
        if evidence.unknown_names or evidence.unmatched_share >= self.settings.abstain_unmatched:
            return Abstention.UNKNOWN_WORDS
        if not question.subject.groups:
            return Abstention.NO_SUBJECT
        if question.wants_value and not value_found:
            return Abstention.NO_VALUE
        if too_weak(evidence, self.settings, value_found=value_found) or confidence < self.settings.answer_threshold:
            return Abstention.WEAK
        return None

    def stretch(self, doc_id: str, start: int, end: int) -> Span:
        """Search-form [start, end) of a document as original offsets and repaired text."""
        original = self.index.form(doc_id).original_span(start, end)
        return Span(doc_id, *original, self.index.repaired(doc_id, start, end))

    @property
    def background(self) -> np.ndarray:
        """Stored sentence vectors a question's best cosine is compared with (made once)."""
        if self._background is None:
            store = self.index.store
            self._background = background_sample(partial(store.vectors, Part.SENTENCES), store.size(Part.SENTENCES), self.settings.background_sample)
        return self._background

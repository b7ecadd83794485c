"""Extractive answers: the sentence of the top chunks that best answers the question, or abstain.

Faithful by construction: the answer is a sentence of the corpus (repaired of PDF artefacts and
shown in the reader's script), never generated text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.analysis.question import Question
from rag.answering.abstention import background_sample, gather_evidence, too_weak
from rag.answering.fit import fits
from rag.index.index import Index
from rag.results import Evidence
from rag.search.retriever import Hit
from rag.settings import Settings


@dataclass
class Candidate:
    hit_rank: int  # 1-based rank of the chunk among the hits
    sentence: int  # position in index.sentences
    score: float = 0.0
    fit: float = 1.0  # carries the kind of answer the question asks for (rag/answering/fit.py)


@dataclass(frozen=True)
class Answer:
    """The chosen sentence (None when abstaining) and the evidence it was judged on."""

    text: str | None = None
    rank: int | None = None  # the hit the answer comes from (1-based)
    doc_id: str | None = None
    start: int | None = None  # original offsets of the answer sentence
    end: int | None = None
    evidence: Evidence | None = None


class AnswerExtractor:
    def __init__(self, index: Index, settings: Settings):
        self.index, self.settings = index, settings
        self._background: np.ndarray | None = None

    def answer(self, question: Question, hits: list[Hit]) -> Answer:
        candidates = self._candidates(hits[: self.settings.answer_chunks])
        if not candidates:
            return Answer()
        self._score(question, candidates)
        best = max(candidates, key=lambda c: (c.fit, c.score))  # a how-many answer must carry a count
        passage = self.index.chunks[hits[best.hit_rank - 1].chunk].search_text
        evidence = gather_evidence(question, max(h.dense for h in hits), self.background, passage)
        value = question.wants_value
        if not question.subject.groups:  # "x", "what is it?": no subject word to find an answer about
            return Answer(evidence=evidence)
        if value and best.fit < 1:  # no sentence holds a value of the kind asked for
            return Answer(evidence=evidence)
        if too_weak(evidence, self.settings, value_found=value):
            return Answer(evidence=evidence)
        sentence = self.index.sentences[best.sentence]
        doc, a, b = sentence.doc_id, sentence.search_start, sentence.search_end
        start, end = self.index.form(doc).original_span(a, b)
        return Answer(self.index.repaired(doc, a, b), best.hit_rank, doc, start, end, evidence)

    @property
    def background(self) -> np.ndarray:
        """Stored sentence vectors a question's best cosine is compared with (made once)."""
        if self._background is None:
            dense = self.index.sentence_dense
            self._background = background_sample(dense.vectors, dense.size, self.settings.background_sample)
        return self._background

    def _candidates(self, hits: list[Hit]) -> list[Candidate]:
        seen: set[int] = set()
        out: list[Candidate] = []
        for rank, hit in enumerate(hits, start=1):
            for sentence in self.index.chunk_sentences[hit.chunk]:
                if sentence not in seen:
                    seen.add(sentence)
                    out.append(Candidate(rank, sentence))
        return out

    def _score(self, question: Question, candidates: list[Candidate]) -> None:
        cosines = self.index.sentence_dense.vectors([c.sentence for c in candidates]) @ question.vector
        s = self.settings
        kinds = set(question.kinds)
        for c, cos in zip(candidates, cosines.tolist()):
            text = self.index.sentence_text(c.sentence)
            c.fit = fits(text, kinds)
            c.score = cos + s.overlap_weight * question.subject.support(text) - s.rank_penalty * (c.hit_rank - 1)

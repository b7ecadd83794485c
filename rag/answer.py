"""Extractive answers: the sentence of the top chunks that best answers the question, or abstain.

Faithful by construction: the answer is a sentence of the corpus (repaired of PDF artefacts and
shown in the reader's script), never generated text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.answer_types import expected_types, fits, wants_value
from rag.confidence import Evidence, SubjectTerms, background_sample, standout, unknown_names, unmatched_words
from rag.config import Settings
from rag.retrieval import Hit, Query, Retriever
from rag.script import EN, detect_script


@dataclass
class Candidate:
    hit_rank: int  # 1-based rank of the chunk among the citations
    sentence: int  # position in index.sentences
    score: float = 0.0
    fit: float = 1.0  # carries the kind of answer the question asks for (rag/answer_types.py)


@dataclass
class Answer:
    text: str | None
    rank: int | None  # citation number the answer comes from
    doc_id: str | None
    start: int | None  # original offsets of the answer sentence
    end: int | None
    evidence: Evidence | None


class AnswerExtractor:
    def __init__(self, retriever: Retriever, settings: Settings):
        self.retriever, self.settings = retriever, settings
        self.index = retriever.index
        self._background: np.ndarray | None = None

    def answer(self, query: Query, hits: list[Hit]) -> Answer:
        candidates = self._candidates(hits[: self.settings.answer_chunks])
        if not candidates:
            return Answer(None, None, None, None, None, None)
        kinds = expected_types(query.form)
        subject = SubjectTerms(query.form, query.terms, self.retriever.rarity)
        self._score(query, candidates, kinds, subject)
        best = max(candidates, key=lambda c: (c.fit, c.score))  # a how-many answer must carry a count
        evidence = self.evidence(query, hits, hits[best.hit_rank - 1], subject)
        value = wants_value(kinds)
        if (value and best.fit < 1) or self.too_weak(evidence, value_found=value):  # no sentence holds such a value, or weak evidence
            return Answer(None, None, None, None, None, evidence)
        sentence = self.index.sentences[best.sentence]
        doc, a, b = sentence.doc_id, sentence.search_start, sentence.search_end
        start, end = self.index.form(doc).original_span(a, b)
        return Answer(self.index.repaired(doc, a, b), best.hit_rank, doc, start, end, evidence)

    def evidence(self, query: Query, hits: list[Hit], cited: Hit, subject: SubjectTerms) -> Evidence:
        if self._background is None:
            dense = self.index.sentence_dense
            self._background = background_sample(dense.vectors, dense.size)
        best = max(h.dense for h in hits)
        passage = self.index.chunks[cited.chunk].search_text
        support = subject.support(passage)
        chinese = detect_script(query.text) != EN
        unknown = unknown_names(query.form, self.retriever.indexed) if chinese else ()
        unmatched, share = ((), 0.0) if chinese else unmatched_words(subject, self.retriever.indexed)
        return Evidence(standout(best, query.vector, self._background), support, chinese, unknown, unmatched, share)

    def too_weak(self, evidence: Evidence, value_found: bool = False) -> bool:
        """`value_found`: the answer sentence carries the count, amount or date the question asks for."""
        s = self.settings
        if evidence.unknown or evidence.unmatched_share >= s.abstain_unmatched:
            return True
        if evidence.standout < s.abstain_standout:
            if evidence.support >= s.abstain_support_override:  # the passage holds most of the subject
                return False
            if evidence.by_terms:
                return True
            if not evidence.unmatched:  # an English question's vector is weaker against Chinese text: alone it proves little
                return False
            # nor do a few untranslated English words, when the sentence says the kind of value asked
            # for and the passage holds some of the subject
            return not (value_found and evidence.support >= s.abstain_support)
        return evidence.by_terms and evidence.support < s.abstain_support

    def _candidates(self, hits: list[Hit]) -> list[Candidate]:
        seen: set[int] = set()
        out: list[Candidate] = []
        for rank, hit in enumerate(hits, start=1):
            for sentence in self.index.chunk_sentences[hit.chunk]:
                if sentence not in seen:
                    seen.add(sentence)
                    out.append(Candidate(rank, sentence))
        return out

    def _score(self, query: Query, candidates: list[Candidate], kinds: set[str], subject: SubjectTerms) -> None:
        texts = [self._text(c.sentence) for c in candidates]
        cosines = self.index.sentence_dense.vectors([c.sentence for c in candidates]) @ query.vector
        s = self.settings
        for c, text, cos in zip(candidates, texts, cosines.tolist()):
            c.fit = fits(text, kinds)
            c.score = cos + s.overlap_weight * subject.support(text) - s.rank_penalty * (c.hit_rank - 1)

    def _text(self, sentence: int) -> str:
        s = self.index.sentences[sentence]
        return self.index.form(s.doc_id).text[s.search_start : s.search_end]

"""Extractive answers: the sentence of the top chunks that best answers the question, or abstain.

Faithful by construction: the answer is a sentence of the corpus (repaired of PDF artefacts and
shown in the reader's script), never generated text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.chunking import sentence_spans
from rag.config import Settings
from rag.retrieval import Hit, Query, Retriever

# Questions that ask for a quantity or a date want a sentence carrying a number.
NUMERIC_QUESTION = re.compile(
    r"\b(how (many|much|long|large|big|far)|what (percentage|share|proportion|number|amount|year|date|month|day)"
    r"|when|which (year|month|day)|in what year)\b|多少|几|幾|何时|何時|什么时候|什麼時候|哪一?年|哪一?天|哪月|几月|多大|多长|多長|多高|比例|占比|佔比|百分之|数量|數量|规模|規模",
    re.IGNORECASE,
)
NUMBER = re.compile(r"\d|[一二三四五六七八九十百千万亿两兩萬億]+[个個家项項名座条條所年月日天倍成%]")
MIN_SENTENCE = 6


@dataclass
class Candidate:
    hit_rank: int  # 1-based rank of the chunk among the citations
    start: int  # search-form span within the document
    end: int
    doc_id: str
    score: float = 0.0


@dataclass
class Answer:
    text: str | None
    rank: int | None  # citation number the answer comes from
    doc_id: str | None
    start: int | None  # original offsets of the answer sentence
    end: int | None
    confidence: float


def asks_for_number(question: str) -> bool:
    return bool(NUMERIC_QUESTION.search(question))


class AnswerExtractor:
    def __init__(self, retriever: Retriever, settings: Settings):
        self.retriever, self.settings = retriever, settings
        self.index = retriever.index

    def answer(self, query: Query, hits: list[Hit]) -> Answer:
        candidates = self._candidates(hits[: self.settings.answer_chunks])
        if not candidates or self.should_abstain(query, hits):
            return Answer(None, None, None, None, None, hits[0].dense if hits else 0.0)
        self._score(query, candidates)
        best = max(candidates, key=lambda c: c.score)
        start, end = self.index.form(best.doc_id).original_span(best.start, best.end)
        text = self.index.repaired(best.doc_id, best.start, best.end)
        return Answer(text, best.hit_rank, best.doc_id, start, end, best.score)

    def should_abstain(self, query: Query, hits: list[Hit]) -> bool:
        """Too weak: the best chunk is neither close in meaning nor sharing the question's words."""
        if not hits:
            return True
        return max(h.dense for h in hits) < self.settings.abstain_below

    def _candidates(self, hits: list[Hit]) -> list[Candidate]:
        out: list[Candidate] = []
        for rank, hit in enumerate(hits, start=1):
            chunk = self.index.chunks[hit.chunk]
            for a, b in sentence_spans(chunk.search_text):
                text = chunk.search_text[a:b].strip()
                if len(text) < MIN_SENTENCE:
                    continue
                lead = len(chunk.search_text[a:b]) - len(chunk.search_text[a:b].lstrip())
                start = chunk.search_start + a + lead
                out.append(Candidate(rank, start, start + len(text), chunk.doc_id))
        return out

    def _score(self, query: Query, candidates: list[Candidate]) -> None:
        texts = [self.index.form(c.doc_id).text[c.start : c.end] for c in candidates]
        vectors = self.retriever.embedder.embed_passages(texts)
        cosines = vectors @ query.vector
        wants_number = asks_for_number(query.text)
        query_tokens = set(query.tokens)
        for c, text, cos in zip(candidates, texts, cosines):
            overlap = len(query_tokens & set(self.retriever.tokenize(text))) / len(query_tokens) if query_tokens else 0.0
            number_fit = 1.0 if (not wants_number or NUMBER.search(text)) else 0.0
            c.score = float(cos) + 0.1 * overlap + 0.05 * number_fit - 0.01 * (c.hit_rank - 1)


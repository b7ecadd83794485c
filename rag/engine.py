"""The search and question-answering engine behind the CLI, the web app and the evaluation: one
loaded index, its embedder and settings; questions in, typed results out."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from rag.analysis.question import Question, QuestionAnalyser, validate_question
from rag.answering.extract import Abstention, Answer, AnswerExtractor
from rag.answering.messages import abstain_message
from rag.embedding.model import Embedder
from rag.index.format import mismatch
from rag.index.index import Index
from rag.index.lifecycle import load_index, open_index, update_in_child, update_index
from rag.index.publish import IndexDir, IndexStoreError
from rag.ingest.script import display
from rag.results import AnswerSource, AnswerSpan, AskResult, Citation, SearchResult
from rag.search.retriever import Hit, Method, Retriever
from rag.settings import Settings
from rag.store.factory import one_process
from rag.timing import Stopwatch


def source_first(hits: list[Hit], rank: int) -> list[Hit]:
    """The hits with the one the answer quotes moved to the front: the answer reads "[1]" and its
    passage is the first a reader checks. Choosing the answer weighs each sentence against the
    question (its cosine, its terms, the kind of value asked for): a finer ranking than the
    passages' own, so the rest keep their order behind it."""
    return [hits[rank - 1], *hits[: rank - 1], *hits[rank:]]


class Engine:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings, corpus_dir: Path | None = None, index_dir: Path | None = None):
        self.index, self.embedder, self.settings = index, embedder, settings
        self.corpus_dir, self.index_dir = corpus_dir, index_dir  # None: a fixed index, no updates
        self.analyser = QuestionAnalyser(index, embedder, settings)
        self.retriever = Retriever(index, settings)
        self.extractor = AnswerExtractor(index, settings)

    @classmethod
    def open(cls, settings: Settings, rebuild: bool = False) -> Engine:
        """The engine over `settings.corpus`, its index at `settings.index` brought up to date."""
        embedder = Embedder.of(settings)
        return cls(open_index(settings.corpus, settings.index, settings, embedder, rebuild), embedder, settings, settings.corpus, settings.index)

    def updated(self, change: Callable[[], object], in_child: bool = False) -> Engine:
        """A new engine after `change` to the corpus folder; this one keeps answering meanwhile.
        `in_child`: build in a child process (a server does, to keep its requests flowing), unless
        the store opens in one process only (Milvus Lite's data folder, held by this one)."""
        if self.corpus_dir is None or self.index_dir is None:
            raise IndexStoreError("this engine serves a fixed index and cannot be updated")
        if in_child and not one_process(self.settings):
            update_in_child(self.corpus_dir, self.index_dir, self.settings, change)
            return self._over(load_index(self.index_dir, self.settings))
        return self._over(update_index(self.corpus_dir, self.index_dir, self.settings, self.embedder, change))

    def reloaded(self) -> Engine | None:
        """A new engine if another process has published a newer build, else None."""
        if self.index_dir is None or IndexDir(self.index_dir).current() in (None, self.index.location):
            return None
        index = load_index(self.index_dir, self.settings)
        reason = mismatch(index.manifest, self.settings, self.embedder.model_id)
        if reason:
            raise IndexStoreError(f"the index published at {self.index_dir} does not match this server ({reason}); run `rag index --rebuild` with the server's settings")
        return self._over(index)

    def _over(self, index: Index) -> Engine:
        return Engine(index, self.embedder, self.settings, self.corpus_dir, self.index_dir)

    def analyse(self, text: str, k: int | None = None) -> Question:
        """The question checked (QuestionError if it cannot be served) and analysed once."""
        return self.analyser.analyse(validate_question(text, self.settings.k if k is None else k))

    def search(self, query: str, k: int | None = None, method: Method = Method.HYBRID) -> SearchResult:
        k = self.settings.k if k is None else k
        question = self.analyse(query, k)
        hits = self.retriever.search(question, k, method)
        return SearchResult(query=question.text, script=question.script, results=[self.citation(h, r, question.script) for r, h in enumerate(hits, 1)])

    def ask(self, text: str, k: int | None = None, method: Method = Method.HYBRID) -> AskResult:
        k = self.settings.k if k is None else k
        clock = Stopwatch()
        question = self.analyse(text, k)
        clock.lap("analyse")  # script, bridge, tokens, embeddings, answer kinds, subject words
        return self.answer(question, k, method, clock)

    def answer(self, question: Question, k: int, method: Method = Method.HYBRID, clock: Stopwatch | None = None) -> AskResult:
        """`ask` for an analysed question (the evaluation reuses one analysis for every method)."""
        clock = clock or Stopwatch()
        depth = self.settings.evidence_depth  # the answer and its confidence do not depend on k
        hits = self.retriever.search(question, max(k, depth), method)
        clock.lap("retrieve")
        answer = self.extractor.answer(question, hits[:depth])
        clock.lap("answer")
        script = question.script
        if answer.sentence is None or answer.rank is None:
            return AskResult(
                question=question.text,
                answer=None,
                abstained=True,
                script=script,
                citations=[],
                closest_passages=[self.citation(h, r, script) for r, h in enumerate(hits[:k], 1)],
                timings_ms=clock.laps,
                evidence=answer.evidence,
                message=self._why_not(answer, question),
            )
        hits = source_first(hits, answer.rank)
        sentence = answer.sentence
        return AskResult(
            question=question.text,
            answer=f"{display(sentence.text, script)} [1]",
            answer_span=AnswerSpan(text=display(answer.span.text, script), start=answer.span.start, end=answer.span.end) if answer.span else None,
            abstained=False,
            script=script,
            citations=[self.citation(h, r, script) for r, h in enumerate(hits[:k], 1)],
            timings_ms=clock.laps,
            answer_source=AnswerSource(citation=1, doc_id=sentence.doc_id, start=sentence.start, end=sentence.end),
            evidence=answer.evidence,
        )

    @staticmethod
    def _why_not(answer: Answer, question: Question) -> str:
        evidence = answer.evidence
        names = [as_written(name, question.text, question.script) for name in evidence.unknown_names] if evidence else []
        return abstain_message(question.script, answer.why_not or Abstention.WEAK, names, evidence.unmatched_words if evidence else [])

    def citation(self, hit: Hit, rank: int, script: str) -> Citation:
        chunk = self.index.chunks[hit.chunk]
        repaired = self.index.repaired(chunk.doc_id, chunk.search_start, chunk.search_end)
        meta = self.index.metadata[chunk.doc_id]
        return Citation(
            rank=rank,
            title=display(meta.title, script),
            source=display(meta.source, script) if meta.source else None,
            date=meta.date,
            doc_id=chunk.doc_id,
            chunk_id=chunk.chunk_id,
            start=chunk.start,
            end=chunk.end,
            text=self.index.documents[chunk.doc_id][chunk.start : chunk.end],
            display_text=display(repaired, script),
            score=round(hit.score, 6),
        )


def as_written(name: str, question: str, script: str) -> str:
    """A name from the question's search form, spelt as the user typed it ("gdp" -> "GDP"), or
    else in the user's script (东京 -> 東京)."""
    found = re.search(re.escape(name), question, re.IGNORECASE)
    return found.group() if found else display(name, script)

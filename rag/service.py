"""The search and question-answering service behind the CLI, the web app and the evaluation."""

from __future__ import annotations

import sys
from pathlib import Path

from rag.answer import AnswerExtractor
from rag.config import Settings
from rag.corpus import load_corpus
from rag.embedding.model import Embedder
from rag.retrieval import Hit, Query, Retriever
from rag.script import EN, HANT, detect_script, display
from rag.store import Index, build_index, load_index, stale_reason
from rag.timing import Stopwatch

MAX_K = 50
MAX_QUESTION = 2000
ABSTAIN_MESSAGE = {
    EN: "The corpus does not contain enough evidence to answer this question.",
    "zh-Hans": "语料中没有足够的证据回答这个问题。",
    HANT: "語料中沒有足夠的證據回答這個問題。",
}


class QuestionError(ValueError):
    """The question or its parameters cannot be served."""


def validate(question: str, k: int) -> str:
    if not isinstance(question, str) or not question.strip():
        raise QuestionError("the question is empty")
    if len(question) > MAX_QUESTION:
        raise QuestionError(f"the question is longer than {MAX_QUESTION} characters")
    if not 1 <= k <= MAX_K:
        raise QuestionError(f"k must be between 1 and {MAX_K}")
    return question.strip()


def open_index(corpus_dir: Path, index_dir: Path, settings: Settings, embedder: Embedder, rebuild: bool = False) -> Index:
    """Load the index, building it first when missing, stale or when asked to."""
    reason = "rebuild requested" if rebuild else stale_reason(index_dir, corpus_dir, settings, embedder.model_id)
    if reason:
        docs = load_corpus(corpus_dir)  # read and check every file before announcing a build
        print(f"building index in {index_dir} ({reason})", file=sys.stderr)
        return build_index(docs, index_dir, settings, embedder)
    return load_index(index_dir)


class Engine:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings):
        self.index, self.settings = index, settings
        self.retriever = Retriever(index, embedder, settings)
        self.extractor = AnswerExtractor(self.retriever, settings)

    @classmethod
    def open(cls, corpus_dir: Path, index_dir: Path, settings: Settings, rebuild: bool = False) -> "Engine":
        embedder = Embedder(settings.model, settings.embed_batch_size)
        return cls(open_index(corpus_dir, index_dir, settings, embedder, rebuild), embedder, settings)

    def search(self, query: str, k: int | None = None, method: str = "hybrid") -> dict:
        k = self.settings.k if k is None else k
        query = validate(query, k)
        prepared = self.retriever.prepare(query)
        script = detect_script(query)
        hits = self.retriever.search(prepared, k, method)
        return {"query": query, "script": script, "results": [self.citation(h, r, script) for r, h in enumerate(hits, 1)]}

    def ask(self, question: str, k: int | None = None, method: str = "hybrid") -> dict:
        k = self.settings.k if k is None else k
        question = validate(question, k)
        clock = Stopwatch()
        prepared = self.retriever.prepare(question)
        clock.lap("embed")
        return self.ask_prepared(prepared, k, method, clock)

    def ask_prepared(self, prepared: Query, k: int, method: str = "hybrid", clock: "Stopwatch | None" = None) -> dict:
        """`ask` for a question already embedded (the evaluation reuses one embedding per method)."""
        clock = clock or Stopwatch()
        question = prepared.text
        hits = self.retriever.search(prepared, k, method)
        clock.lap("retrieve")
        answer = self.extractor.answer(prepared, hits)
        clock.lap("answer")
        script = detect_script(question)
        result = {
            "question": question,
            "answer": f"{display(answer.text, script)} [{answer.rank}]" if answer.text else None,
            "abstained": answer.text is None,
            "script": script,
            "citations": [self.citation(h, r, script) for r, h in enumerate(hits, 1)],
            "timings_ms": clock.laps,
        }
        if answer.text:
            result["answer_source"] = {"citation": answer.rank, "doc_id": answer.doc_id, "start": answer.start, "end": answer.end}
        if answer.evidence:
            e = answer.evidence
            result["evidence"] = {"standout": round(e.standout, 3), "support": round(e.support, 3)}
        if answer.text is None:
            result["message"] = ABSTAIN_MESSAGE[script]
        return result

    def citation(self, hit: Hit, rank: int, script: str) -> dict:
        chunk = self.index.chunks[hit.chunk]
        repaired = self.index.repaired(chunk.doc_id, chunk.search_start, chunk.search_end)
        return {
            "rank": rank,
            "doc_id": chunk.doc_id,
            "chunk_id": chunk.chunk_id,
            "start": chunk.start,
            "end": chunk.end,
            "text": self.index.documents[chunk.doc_id][chunk.start : chunk.end],
            "display_text": display(repaired, script),
            "score": round(hit.score, 6),
        }

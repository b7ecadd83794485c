"""The search and question-answering service behind the CLI, the web app and the evaluation."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from rag.answer import AnswerExtractor
from rag.config import Settings
from rag.corpus import load_corpus
from rag.embedding.model import Embedder
from rag.retrieval import Hit, Query, Retriever
from rag.script import EN, HANT, detect_script, display
from rag.storage import IndexDir, IndexStoreError
from rag.store import Index, build_index, load_index, mismatch, stale_reason
from rag.timing import Stopwatch

MAX_K = 50
MAX_QUESTION = 2000
ABSTAIN_MESSAGE = {
    EN: "The corpus does not contain enough evidence to answer this question.",
    "zh-Hans": "语料中没有足够的证据回答这个问题。",
    HANT: "語料中沒有足夠的證據回答這個問題。",
}
UNKNOWN_MESSAGE = {"zh-Hans": "语料中没有提到{}。", HANT: "語料中沒有提到{}。"}  # Chinese questions only (rag/confidence.py)


def as_written(name: str, question: str, script: str) -> str:
    """A name from the question's search form, spelt as the user typed it ("gdp" -> "GDP"), or
    else in the user's script (东京 -> 東京)."""
    found = re.search(re.escape(name), question, re.IGNORECASE)
    return found.group() if found else display(name, script)


def source_first(hits: list[Hit], rank: int) -> list[Hit]:
    """The hits with the one the answer quotes moved to the front: the answer reads "[1]" and its
    passage is the first a reader checks. Choosing the answer weighs each sentence against the
    question (its cosine, its terms, the kind of value asked for): a finer ranking than the
    passages' own, so the rest keep their order behind it."""
    return [hits[rank - 1], *hits[: rank - 1], *hits[rank:]]


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
    """Load the index, bringing it up to date first when missing, stale or when asked to."""
    if not rebuild and stale_reason(index_dir, corpus_dir, settings, embedder.model_id) is None:
        return load_index(index_dir)
    return update_index(corpus_dir, index_dir, settings, embedder, rebuild=rebuild)


def update_index(corpus_dir: Path, index_dir: Path, settings: Settings, embedder: Embedder, change: Callable[[], object] | None = None, rebuild: bool = False) -> Index:
    """As the one writer (the index lock): apply `change` to the corpus folder (rag add / remove),
    then rebuild what is stale, re-processing only documents whose content changed."""
    with IndexDir(index_dir).lock():
        if change is not None:
            change()
        reason = "rebuild requested" if rebuild else stale_reason(index_dir, corpus_dir, settings, embedder.model_id)
        if reason is None:  # another writer brought it up to date while we waited
            return load_index(index_dir)
        corpus = load_corpus(corpus_dir)  # read and check every file before announcing a build
        previous = None if rebuild else reusable_index(index_dir, settings, embedder.model_id)
        total = len(corpus.documents)
        todo = total - (len(previous.unchanged(corpus.documents)) if previous else 0)
        print(f"building index in {index_dir} ({reason}; {todo} of {total} documents to process)", file=sys.stderr)
        return build_index(corpus, index_dir, settings, embedder, previous)


def reusable_index(index_dir: Path, settings: Settings, model_id: str) -> Index | None:
    """The current index if an update can start from it (same format, settings and model, intact)."""
    if mismatch(IndexDir(index_dir).manifest(), settings, model_id):
        return None
    try:
        return load_index(index_dir)
    except IndexStoreError:
        return None


class Engine:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings, corpus_dir: Path | None = None, index_dir: Path | None = None):
        self.index, self.embedder, self.settings = index, embedder, settings
        self.corpus_dir, self.index_dir = corpus_dir, index_dir  # None: a fixed index, no updates
        self.retriever = Retriever(index, embedder, settings)
        self.extractor = AnswerExtractor(self.retriever, settings)

    @classmethod
    def open(cls, corpus_dir: Path, index_dir: Path, settings: Settings, rebuild: bool = False) -> "Engine":
        embedder = Embedder(settings.model, settings.embed_batch_size)
        return cls(open_index(corpus_dir, index_dir, settings, embedder, rebuild), embedder, settings, corpus_dir, index_dir)

    def updated(self, change: Callable[[], object]) -> "Engine":
        """A new engine after `change` to the corpus folder; this one keeps answering meanwhile."""
        if self.corpus_dir is None or self.index_dir is None:
            raise IndexStoreError("this engine serves a fixed index and cannot be updated")
        return self._over(update_index(self.corpus_dir, self.index_dir, self.settings, self.embedder, change))

    def reloaded(self) -> "Engine | None":
        """A new engine if another process has published a newer build, else None."""
        if self.index_dir is None or IndexDir(self.index_dir).current() in (None, self.index.location):
            return None
        index = load_index(self.index_dir)
        reason = mismatch(index.manifest, self.settings, self.embedder.model_id)
        if reason:
            raise IndexStoreError(f"the index published at {self.index_dir} does not match this server ({reason}); run `rag index --rebuild` with the server's settings")
        return self._over(index)

    def _over(self, index: Index) -> "Engine":
        return Engine(index, self.embedder, self.settings, self.corpus_dir, self.index_dir)

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
        depth = self.settings.evidence_depth  # the answer and its confidence do not depend on k
        hits = self.retriever.search(prepared, max(k, depth), method)
        clock.lap("retrieve")
        answer = self.extractor.answer(prepared, hits[:depth])
        clock.lap("answer")
        if answer.text and answer.rank and answer.rank > 1:
            hits, answer.rank = source_first(hits, answer.rank), 1
        hits = hits[:k]
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
            result["evidence"] = {
                "standout": round(e.standout, 3),
                "support": round(e.support, 3),
                "unknown_names": list(e.unknown),
                "unmatched_words": list(e.unmatched),
            }
        if answer.text is None:
            unknown = answer.evidence.unknown if answer.evidence else ()
            names = "、".join(as_written(name, question, script) for name in unknown)
            result["message"] = UNKNOWN_MESSAGE[script].format(names) if unknown else ABSTAIN_MESSAGE[script]
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

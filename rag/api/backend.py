"""The engine behind the web service: loaded once, in the background, so /healthz answers at once
and /readyz says when questions can be served. Document writes and builds published by other
processes produce a new engine that replaces the old one when it is ready; questions meanwhile are
answered by the old one."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from fastapi import Request

from rag.api.errors import ApiError
from rag.corpus import parse_document, remove_documents, store_document
from rag.generation import Generator, with_generated_answer
from rag.script import detect_script, display
from rag.service import Engine

WARM_UP_QUESTION = "warm-up"
RELOAD_SECONDS = 2.0  # how often to look for a build published by another process


class Backend:
    def __init__(self, load: Callable[[], Engine], generator: Generator | None = None):
        self._load, self.generator = load, generator
        self.engine: Engine | None = None
        self.error: str | None = None
        self.reload_error: str | None = None
        self._lock = threading.Lock()  # one question at a time: the model already uses every core
        self._write_lock = threading.Lock()  # one document write at a time in this process
        self._stop = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._open, name="rag-load", daemon=True).start()
        threading.Thread(target=self._watch, name="rag-reload", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(RELOAD_SECONDS):
            if self.engine is not None:
                with self._write_lock:
                    self._reload()

    def _reload(self) -> None:
        try:
            engine = self.engine.reloaded()
        except Exception as exc:  # keep serving the old index, say why on /readyz
            if self.reload_error != str(exc):
                print(f"rag: not switching index: {exc}", file=sys.stderr)
            self.reload_error = str(exc)
            return
        self.reload_error = None
        if engine is not None:
            self._switch(engine)

    def _switch(self, engine: Engine) -> None:
        engine.ask(WARM_UP_QUESTION)
        self.engine = engine
        print(f"rag: now serving {engine.index.location}", file=sys.stderr)

    def _open(self) -> None:
        try:
            engine = self._load()
            engine.ask(WARM_UP_QUESTION)  # first-call costs (model, tokenizers, background) now, not on a user
            self.engine = engine
        except Exception as exc:  # reported by /readyz and every question; the process stays up
            self.error = f"{type(exc).__name__}: {exc}"

    @property
    def status(self) -> str:
        return "ready" if self.engine else ("failed" if self.error else "loading")

    def ready_engine(self) -> Engine:
        if self.engine is None:
            detail = f"the index failed to load: {self.error}" if self.error else "the index is still loading"
            raise ApiError(503, detail, "service_unavailable")
        return self.engine

    def ask(self, question: str, k: int | None) -> dict:
        engine = self.ready_engine()
        with self._lock:
            result = engine.ask(question, k)
        return with_generated_answer(result, self.generator)

    def search(self, query: str, k: int | None) -> dict:
        engine = self.ready_engine()
        with self._lock:
            return engine.search(query, k)

    def passage(self, doc_id: str, start: int, end: int, script: str, context: int) -> dict:
        """The cited span of a document with some text either side, in the reader's script."""
        documents = self.ready_engine().index.documents
        if doc_id not in documents:
            raise ApiError(404, f"no document {doc_id!r}", "not_found")
        text = documents[doc_id]
        if not 0 <= start < end <= len(text):
            raise ApiError(422, f"the span must satisfy 0 <= start < end <= {len(text)}", "invalid_request_error")
        script = script if script in ("en", "zh-Hans", "zh-Hant") else detect_script(text[start:end])
        parts = (text[max(0, start - context) : start], text[start:end], text[end : end + context])
        before, span, after = (display(part, script) for part in parts)
        return {"doc_id": doc_id, "start": start, "end": end, "before": before, "text": span, "after": after}

    def documents(self) -> dict:
        index = self.ready_engine().index
        corpus = index.manifest.get("corpus", {})
        rows = [{"id": d, "chars": len(text), "chunks": len(index.doc_chunks.get(d, [])), "sha256": corpus.get(d)} for d, text in index.documents.items()]
        return {"documents": rows}

    def add_document(self, doc_id: str, text: str) -> dict:
        raw = text.encode("utf-8")
        document = parse_document(doc_id, raw)
        engine = self._update(lambda: store_document(self._corpus(), doc_id, raw))
        chunks = len(engine.index.doc_chunks.get(doc_id, []))
        return {"id": doc_id, "sha256": document.sha256, "chars": len(document.text), "chunks": chunks, "documents": len(engine.index.documents)}

    def remove_document(self, doc_id: str) -> dict:
        if doc_id not in self.ready_engine().index.documents:
            raise ApiError(404, f"no document {doc_id!r}", "not_found")
        engine = self._update(lambda: remove_documents(self._corpus(), [doc_id]))
        return {"id": doc_id, "deleted": True, "documents": len(engine.index.documents)}

    def _corpus(self):
        corpus = self.ready_engine().corpus_dir
        if corpus is None:
            raise ApiError(409, "this server answers from a fixed index; documents cannot be changed", "conflict")
        return corpus

    def _update(self, change: Callable[[], object]) -> Engine:
        """Apply `change` and switch to the updated index; questions meanwhile use the old one."""
        self._corpus()
        with self._write_lock:
            self._reload()  # start from the newest build, whoever published it
            engine = self.ready_engine().updated(change)
            self._switch(engine)
        return engine


def get_backend(request: Request) -> Backend:
    return request.app.state.backend

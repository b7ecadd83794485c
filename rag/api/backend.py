"""The engine behind the web service: loaded once, in the background, so /healthz answers at once
and /readyz says when questions can be served."""

from __future__ import annotations

import threading
from collections.abc import Callable

from fastapi import Request

from rag.api.errors import ApiError
from rag.generation import Generator, with_generated_answer
from rag.script import detect_script, display
from rag.service import Engine

WARM_UP_QUESTION = "warm-up"


class Backend:
    def __init__(self, load: Callable[[], Engine], generator: Generator | None = None):
        self._load, self.generator = load, generator
        self.engine: Engine | None = None
        self.error: str | None = None
        self._lock = threading.Lock()  # one question at a time: the model already uses every core

    def start(self) -> None:
        threading.Thread(target=self._open, name="rag-load", daemon=True).start()

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


def get_backend(request: Request) -> Backend:
    return request.app.state.backend

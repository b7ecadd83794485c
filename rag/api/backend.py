"""The engine behind the web service: loaded once, in the background, so /healthz answers at once
and /readyz says when questions can be served. Document writes and builds published by other
processes produce a new engine that replaces the old one when it is ready; questions meanwhile are
answered by the old one."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from rag.analysis.question import validate_question
from rag.answering.generation import Generator, with_generated_answer
from rag.api.errors import ApiError
from rag.api.questions import QuestionQueue
from rag.api.schemas import (
    DocumentDeleted,
    DocumentInfo,
    DocumentList,
    DocumentWritten,
    Passage,
    SkippedFile,
)
from rag.engine import Engine
from rag.ingest.corpus import parse_document, remove_documents, store_document
from rag.ingest.script import SCRIPTS, detect_script, display
from rag.results import AskResult, SearchResult
from rag.settings import Settings

logger = logging.getLogger(__name__)
WARM_UP_QUESTION = "warm-up"
RELOAD_SECONDS = 2.0  # how often to look for a build published by another process


class Backend:
    def __init__(self, load: Callable[[], Engine], generator: Generator | None, settings: Settings):
        self._load, self.generator = load, generator
        self.engine: Engine | None = None
        self.error: str | None = None
        self.reload_error: str | None = None
        self.questions = QuestionQueue(settings.question_queue, settings.question_deadline)
        self.max_analysed = settings.max_analysed_chars  # what a question's cost grows with
        self._write_lock = threading.Lock()  # one document write at a time in this process
        self._stop = threading.Event()

    def start(self) -> None:
        self.questions.start()
        threading.Thread(target=self._open, name="rag-load", daemon=True).start()
        threading.Thread(target=self._watch, name="rag-reload", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self.questions.stop()

    def _watch(self) -> None:
        while not self._stop.wait(RELOAD_SECONDS):
            if self.engine is not None:
                with self._write_lock:
                    self._reload()

    def _reload(self) -> None:
        if self.engine is None:
            return
        try:
            engine = self.engine.reloaded()
        except Exception as exc:  # keep serving the old index, say why on /readyz
            if self.reload_error != str(exc):
                logger.warning("not switching index: %s", exc)
            self.reload_error = str(exc)
            return
        self.reload_error = None
        if engine is not None:
            self._switch(engine)

    def _switch(self, engine: Engine) -> None:
        engine.ask(WARM_UP_QUESTION)
        self.engine = engine
        logger.info("now serving %s", engine.index.location)

    def _open(self) -> None:
        try:
            engine = self._load()
            engine.ask(WARM_UP_QUESTION)  # first-call costs (model, tokenizers, background) now, not on a user
            self.engine = engine
        except Exception as exc:  # reported by /readyz and every question; the process stays up
            self.error = f"{type(exc).__name__}: {exc}"

    @property
    def status(self) -> Literal["ready", "loading", "failed"]:
        return "ready" if self.engine else ("failed" if self.error else "loading")

    def ready_engine(self) -> Engine:
        if self.engine is None:
            detail = f"the index failed to load: {self.error}" if self.error else "the index is still loading"
            raise ApiError(503, detail, "service_unavailable")
        return self.engine

    async def ask(self, question: str, k: int | None) -> AskResult:
        validate_question(question, 1 if k is None else k)  # a bad question is a 422 even while the index loads
        engine = self.ready_engine()
        result = await self.questions.run(lambda: engine.ask(question, k), cost=min(len(question), self.max_analysed))
        if self.generator is None:
            return with_generated_answer(result, None)
        return await run_in_threadpool(with_generated_answer, result, self.generator)  # a network wait: not on the question thread

    async def search(self, query: str, k: int | None) -> SearchResult:
        validate_question(query, 1 if k is None else k)
        engine = self.ready_engine()
        return await self.questions.run(lambda: engine.search(query, k), cost=min(len(query), self.max_analysed))

    def passage(self, doc_id: str, start: int, end: int, script: str, context: int) -> Passage:
        """The cited span of a document with some text either side, in the reader's script."""
        documents = self.ready_engine().index.documents
        if doc_id not in documents:
            raise ApiError(404, f"no document {doc_id!r}", "not_found")
        text = documents[doc_id]
        if not 0 <= start < end <= len(text):
            raise ApiError(422, f"the span {start}–{end} is not inside {doc_id}, which has {len(text)} characters: start must come before end, and end be at most {len(text)}", "invalid_request_error")
        script = script if script in SCRIPTS else detect_script(text[start:end])
        parts = (text[max(0, start - context) : start], text[start:end], text[end : end + context])
        before, span, after = (display(part, script) for part in parts)
        return Passage(doc_id=doc_id, start=start, end=end, before=before, text=span, after=after)

    def documents(self) -> DocumentList:
        index = self.ready_engine().index
        manifest = index.manifest
        corpus, notes = manifest.get("corpus", {}), manifest.get("notes", {})
        rows = [
            DocumentInfo(id=d, **index.metadata[d].as_dict(), chars=len(text), chunks=len(index.doc_chunks.get(d, [])), sha256=corpus.get(d), notes=notes.get(d, []))
            for d, text in index.documents.items()
        ]
        skipped = [SkippedFile(id=name, reason=why) for name, why in manifest.get("skipped_reasons", {}).items()]
        return DocumentList(documents=rows, skipped=skipped)

    def add_document(self, doc_id: str, text: str) -> DocumentWritten:
        """Adds the document, or replaces the one with this id; returns once the index includes it."""
        raw = text.encode("utf-8")
        document = parse_document(doc_id, raw)
        replaced = doc_id in self.ready_engine().index.documents
        engine = self._update(lambda: store_document(self._corpus(), doc_id, raw))
        chunks = len(engine.index.doc_chunks.get(doc_id, []))
        return DocumentWritten(id=doc_id, sha256=document.sha256, chars=len(document.text), chunks=chunks, documents=len(engine.index.documents), replaced=replaced)

    def remove_document(self, doc_id: str) -> DocumentDeleted:
        if doc_id not in self.ready_engine().index.documents:
            raise ApiError(404, f"no document {doc_id!r}", "not_found")
        engine = self._update(lambda: remove_documents(self._corpus(), [doc_id]))
        return DocumentDeleted(id=doc_id, deleted=True, documents=len(engine.index.documents))

    def _corpus(self) -> Path:
        corpus = self.ready_engine().corpus_dir
        if corpus is None:
            raise ApiError(409, "this server answers from a fixed index; documents cannot be changed", "conflict")
        return corpus

    def _update(self, change: Callable[[], object]) -> Engine:
        """Apply `change` and switch to the updated index; questions meanwhile use the old one."""
        self._corpus()
        with self._write_lock:
            self._reload()  # start from the newest build, whoever published it
            engine = self.ready_engine().updated(change, in_child=True)  # the build runs beside the server, not in it
            self._switch(engine)
        return engine


def get_backend(request: Request) -> Backend:
    return request.app.state.backend


BackendDep = Annotated[Backend, Depends(get_backend)]

"""Building an index from a corpus: normalise, chunk, tokenize, embed, then publish atomically.
Documents unchanged since the previous build keep their parts; the result equals a full rebuild."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from rag.crosslingual.bridge import Bridge
from rag.embedding.model import Embedder
from rag.index.bm25 import BM25
from rag.index.faiss import FaissIndex
from rag.index.format import FORMAT_VERSION, pipeline_digest, write_index
from rag.index.index import Index
from rag.index.progress import BuildProgress, counted
from rag.index.publish import IndexDir
from rag.ingest.chunking import Chunk, Sentence, chunk_document, split_sentences
from rag.ingest.corpus import Corpus
from rag.ingest.metadata import DocumentMeta, read_metadata
from rag.ingest.normalize import SearchForm, SearchForms, search_form
from rag.ingest.tokenization import get_tokenizer
from rag.settings import Settings
from rag.timing import Stopwatch

EMBED_BATCH = 32_768  # vectors embedded or copied, then added to FAISS, at a time (48 MB of float32)


def build_index(corpus: Corpus, index_dir: Path, settings: Settings, embedder: Embedder, previous: Index | None = None, clock: Stopwatch | None = None) -> Index:
    """Build and publish an index of `corpus`. Documents whose content is unchanged since `previous`
    (built with the same settings) keep their search form, chunks, sentences and vectors; only the
    rest is normalised, chunked and embedded. Corpus-wide parts (BM25 statistics, the bridge, the
    FAISS index) are rebuilt from the union, so the result equals a full rebuild.
    `clock` (optional) gets a lap per stage, for the benchmarks. Call with the index lock held."""
    clock = clock or Stopwatch()
    progress = BuildProgress()
    docs = corpus.documents
    kept = previous.unchanged(docs) if previous else set()
    new_docs, unchanged = len(docs) - len(kept), f" ({len(kept)} unchanged)" if kept else ""
    forms: dict[str, SearchForm] = {}
    metadata: dict[str, DocumentMeta] = {}
    with progress.stage(f"normalise {counted(new_docs, 'document')}{unchanged}", new_docs, "doc") as stage:
        for d in docs:
            if previous and d.doc_id in kept:
                forms[d.doc_id], metadata[d.doc_id] = previous.form(d.doc_id), previous.metadata[d.doc_id]
            else:
                forms[d.doc_id] = search_form(d.text)
                metadata[d.doc_id] = read_metadata(d.doc_id, d.text, forms[d.doc_id])
                stage.advance()
    clock.lap("normalise")
    chunks: list[Chunk] = []
    sentences: list[Sentence] = []
    with progress.stage(f"chunk {counted(new_docs, 'document')}{unchanged}", new_docs, "doc") as stage:
        for doc in docs:
            if previous and doc.doc_id in kept:
                chunks += previous.doc_chunks.get(doc.doc_id, [])
                sentences += previous.doc_sentences.get(doc.doc_id, [])
            else:
                chunks += chunk_document(doc.doc_id, forms[doc.doc_id], settings.chunk_size, settings.chunk_overlap)
                sentences += split_sentences(doc.doc_id, forms[doc.doc_id])
                stage.advance()
        stage.outcome = f"{counted(len(chunks), 'passage')}, {counted(len(sentences), 'sentence')}"
    clock.lap("chunk")
    with progress.stage(f"index the words of {counted(len(chunks), 'passage')}"):
        tokenize = get_tokenizer(settings.tokenizer)
        bm25 = BM25(settings.bm25_k1, settings.bm25_b).index(tokenize(c.search_text) for c in chunks)
        bridge = Bridge.build((form.text for form in forms.values()), settings.bridge_per_term, settings.bridge_keep)
    clock.lap("lexical")
    reuse = previous if kept and previous and previous.dense.exact else None
    stored = [reuse.by_id.get(c.chunk_id) for c in chunks] if reuse else None
    todo = _to_embed(stored, len(chunks))
    with progress.stage(embedding(todo, len(chunks), "passage"), todo, "passage") as stage:
        chunk_batches = vector_batches(chunks, _chunk_text, stored, reuse.dense if reuse else None, embedder, stage.advance)
        first = next(chunk_batches)
        dense = FaissIndex.build(chain([first], chunk_batches), len(chunks), first.shape[1], settings)
    stored = [reuse.sentence_position(s) for s in sentences] if reuse else None
    todo = _to_embed(stored, len(sentences))
    with progress.stage(embedding(todo, len(sentences), "sentence"), todo, "sentence") as stage:
        sentence_batches = vector_batches(sentences, _sentence_text(forms), stored, reuse.sentence_dense if reuse else None, embedder, stage.advance)
        sentence_dense = FaissIndex.build(sentence_batches, len(sentences), dense.dimension, settings)
    clock.lap("embed")  # embedding and FAISS insertion interleave, batch by batch
    manifest: dict[str, Any] = {
        "format": FORMAT_VERSION,
        "settings_key": settings.index_key(),
        "settings": settings.as_dict(),
        "model_id": embedder.model_id,
        "pipeline": pipeline_digest(),
        "corpus": {d.doc_id: d.sha256 for d in docs},
        "skipped": corpus.skipped,
        "skipped_reasons": corpus.reasons,  # shown on /readyz and /v1/documents
        "notes": {d.doc_id: list(d.notes) for d in docs if d.notes},
        "chunks": len(chunks),
        "reused_documents": len(kept),
    }
    index = Index(manifest, {d.doc_id: d.text for d in docs}, chunks, bm25, dense, sentences, sentence_dense, bridge, SearchForms.of(forms), metadata)
    index.location = IndexDir(index_dir).publish(lambda folder: write_index(index, folder))
    clock.lap("save")
    progress.stage_done("write index", clock.laps["save"] / 1000)
    return index


def vector_batches(
    items: list[Any], text: Callable[[Any], str], stored: list[int | None] | None, source: FaissIndex | None, embedder: Embedder, progress: Callable[[int, bool], None] | None = None
) -> Iterator[np.ndarray]:
    """Vectors of `items` in order, EMBED_BATCH at a time: copied from `source` at position
    `stored[i]` where it holds the same text (None: embed it, through the cache; `progress(n,
    cached)` hears of each embedded one)."""
    for low in range(0, len(items), EMBED_BATCH):
        high = min(low + EMBED_BATCH, len(items))
        positions = stored[low:high] if stored is not None else [None] * (high - low)
        new = [i for i, p in enumerate(positions) if p is None]
        old = [i for i, p in enumerate(positions) if p is not None]
        fresh = embedder.embed_passages([text(items[low + i]) for i in new], progress=progress) if new else None
        reused = source.vectors([positions[i] for i in old]) if source is not None and old else None  # type: ignore[misc]
        width = (fresh if fresh is not None else reused).shape[1]  # type: ignore[union-attr]
        vectors = np.empty((high - low, width), dtype=np.float32)
        if fresh is not None:
            vectors[new] = fresh
        if reused is not None:
            vectors[old] = reused
        yield vectors


def _chunk_text(chunk: Chunk) -> str:
    return chunk.search_text


def _sentence_text(forms: dict[str, SearchForm]) -> Callable[[Sentence], str]:
    return lambda s: forms[s.doc_id].text[s.search_start : s.search_end]


def _to_embed(stored: list[int | None] | None, count: int) -> int:
    """How many of `count` vectors are embedded (through the cache) rather than copied from the previous build."""
    return count if stored is None else sum(p is None for p in stored)


def embedding(todo: int, count: int, noun: str) -> str:
    """The embed stage's name, with honest counts: `embed 40 passages (110 unchanged)`."""
    return f"embed {counted(todo, noun)}" + (f" ({count - todo} unchanged)" if todo < count else "")

"""Building an index from a corpus: normalise, chunk, tokenize, embed, then publish atomically.
Documents unchanged since the previous build keep their parts; the result equals a full rebuild."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from rag.crosslingual.bridge import Bridge
from rag.embedding.model import Embedder
from rag.index.bm25 import BM25
from rag.index.faiss import FaissIndex
from rag.index.format import FORMAT_VERSION, pipeline_digest, publish_index
from rag.index.index import Index
from rag.index.progress import BuildProgress, counted
from rag.ingest.chunking import Chunk, Links, Sentence, chunk_document, link_sentences, split_sentences
from rag.ingest.corpus import Corpus
from rag.ingest.metadata import DocumentMeta, read_metadata
from rag.ingest.normalize import SearchForm, SearchForms, search_form
from rag.ingest.tokenization import get_tokenizer
from rag.settings import ChunkVectors, Settings
from rag.store.base import Part
from rag.store.local import LocalStore
from rag.timing import Stopwatch

EMBED_BATCH = 32_768  # vectors embedded or copied, then added to FAISS, at a time (48 MB of float32)


@dataclass(frozen=True)
class DocumentParts:
    """What a build makes of one document before the corpus-wide parts: kept from the previous
    build, made here, or made on a Ray worker (rag/index/distributed.py)."""

    form: SearchForm
    metadata: DocumentMeta
    chunks: list[Chunk]
    sentences: list[Sentence]

    @classmethod
    def of(cls, doc_id: str, text: str, settings: Settings) -> DocumentParts:
        """All of one document's parts at once: a Ray worker's unit of work."""
        form, metadata = normalise_document(doc_id, text)
        return cls(form, metadata, *chunk_form(doc_id, form, settings))

    def passages(self, settings: Settings) -> list[str]:
        """The texts the embed stage will ask the embedder for: the sentences', and the chunks'
        (pooled chunk vectors: only those of chunks holding no sentence)."""
        chunks = self.chunks
        if settings.chunk_vectors == ChunkVectors.POOLED:
            members = link_sentences(self.chunks, self.sentences)[0]
            chunks = [c for i, c in enumerate(self.chunks) if not members[i]]
        sentence_text = _sentence_text({s.doc_id: self.form for s in self.sentences})
        return [_chunk_text(c) for c in chunks] + [sentence_text(s) for s in self.sentences]


def build_index(
    corpus: Corpus, index_dir: Path, settings: Settings, embedder: Embedder, previous: Index | None = None, clock: Stopwatch | None = None, prepared: dict[str, DocumentParts] | None = None
) -> Index:
    """Build and publish an index of `corpus`. Documents whose content is unchanged since `previous`
    (built with the same settings) keep their search form, chunks, sentences and vectors; only the
    rest is normalised, chunked and embedded, unless `prepared` already holds its parts (made on a
    Ray cluster, with its vectors put in the embedder's cache: rag/index/distributed.py).
    Corpus-wide parts (BM25 statistics, the bridge, the FAISS index) are rebuilt from the union,
    so the result equals a full rebuild.
    `clock` (optional) gets a lap per stage, for the benchmarks. Call with the index lock held."""
    clock = clock or Stopwatch()
    progress = BuildProgress()
    docs = corpus.documents
    kept = previous.unchanged(docs) if previous else set()
    ready = {**(prepared or {}), **{doc_id: _kept_parts(previous, doc_id) for doc_id in kept if previous}}
    new_docs, unchanged = len(docs) - len(ready), _done_before(len(kept), len(prepared or {}))
    forms: dict[str, SearchForm] = {}
    metadata: dict[str, DocumentMeta] = {}
    with progress.stage(f"normalise {counted(new_docs, 'document')}{unchanged}", new_docs, "doc") as stage:
        for d in docs:
            if d.doc_id in ready:
                forms[d.doc_id], metadata[d.doc_id] = ready[d.doc_id].form, ready[d.doc_id].metadata
            else:
                forms[d.doc_id], metadata[d.doc_id] = normalise_document(d.doc_id, d.text)
                stage.advance()
    clock.lap("normalise")
    chunks: list[Chunk] = []
    sentences: list[Sentence] = []
    with progress.stage(f"chunk {counted(new_docs, 'document')}{unchanged}", new_docs, "doc") as stage:
        for doc in docs:
            if doc.doc_id in ready:
                chunks += ready[doc.doc_id].chunks
                sentences += ready[doc.doc_id].sentences
            else:
                doc_chunks, doc_sentences = chunk_form(doc.doc_id, forms[doc.doc_id], settings)
                chunks += doc_chunks
                sentences += doc_sentences
                stage.advance()
        stage.outcome = f"{counted(len(chunks), 'passage')}, {counted(len(sentences), 'sentence')}"
    clock.lap("chunk")
    with progress.stage(f"index the words of {counted(len(chunks), 'passage')}"):
        tokenize = get_tokenizer(settings.tokenizer)
        bm25 = BM25(settings.bm25_k1, settings.bm25_b).index(tokenize(c.search_text) for c in chunks)
        bridge = Bridge.build((form.text for form in forms.values()), settings.bridge_per_term, settings.bridge_keep)
    clock.lap("lexical")
    reuse = previous if kept and previous and previous.store.exact else None
    links = link_sentences(chunks, sentences)
    stored = [reuse.sentence_position(s) for s in sentences] if reuse else None
    todo = _to_embed(stored, len(sentences))
    with progress.stage(embedding(todo, len(sentences), "sentence"), todo, "sentence") as stage:
        sentence_batches = vector_batches(sentences, _sentence_text(forms), stored, partial(reuse.store.vectors, Part.SENTENCES) if reuse else None, embedder, stage.advance)
        first = next(sentence_batches)
        sentence_dense = FaissIndex.build(chain([first], sentence_batches), len(sentences), first.shape[1], settings)
    if settings.chunk_vectors == ChunkVectors.POOLED:  # no model pass: means of the sentence vectors just stored
        with progress.stage(f"pool {counted(len(chunks), 'passage vector')} from their sentences", len(chunks), "passage") as stage:
            dense = FaissIndex.build(pooled_batches(chunks, links[0], sentence_dense, embedder, stage.advance), len(chunks), sentence_dense.dimension, settings)
    else:
        stored = [reuse.by_id.get(c.chunk_id) for c in chunks] if reuse else None
        todo = _to_embed(stored, len(chunks))
        with progress.stage(embedding(todo, len(chunks), "passage"), todo, "passage") as stage:
            chunk_batches = vector_batches(chunks, _chunk_text, stored, partial(reuse.store.vectors, Part.CHUNKS) if reuse else None, embedder, stage.advance)
            dense = FaissIndex.build(chunk_batches, len(chunks), sentence_dense.dimension, settings)
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
    index = Index(manifest, {d.doc_id: d.text for d in docs}, chunks, bm25, LocalStore(bm25, dense, sentence_dense), sentences, bridge, SearchForms.of(forms), metadata, links=links)
    index.location = publish_index(index, index_dir, settings)  # the vectors go to settings.store
    clock.lap("save")
    progress.stage_done("write index", clock.laps["save"] / 1000)
    return index


def vector_batches(
    items: list[Any],
    text: Callable[[Any], str],
    stored: list[int | None] | None,
    source: Callable[[list[int]], np.ndarray] | None,
    embedder: Embedder,
    progress: Callable[[int, bool], None] | None = None,
) -> Iterator[np.ndarray]:
    """Vectors of `items` in order, EMBED_BATCH at a time: copied from `source` (the previous
    build's stored vectors, by position) at position `stored[i]` where it holds the same text
    (None: embed it, through the cache; `progress(n, cached)` hears of each embedded one)."""
    for low in range(0, len(items), EMBED_BATCH):
        high = min(low + EMBED_BATCH, len(items))
        positions = stored[low:high] if stored is not None else [None] * (high - low)
        new = [i for i, p in enumerate(positions) if p is None]
        old = [i for i, p in enumerate(positions) if p is not None]
        fresh = embedder.embed_passages([text(items[low + i]) for i in new], progress=progress) if new else None
        reused = source([positions[i] for i in old]) if source is not None and old else None  # type: ignore[misc]
        width = (fresh if fresh is not None else reused).shape[1]  # type: ignore[union-attr]
        vectors = np.empty((high - low, width), dtype=np.float32)
        if fresh is not None:
            vectors[new] = fresh
        if reused is not None:
            vectors[old] = reused
        yield vectors


def pooled_batches(chunks: list[Chunk], members: Links, sentences: FaissIndex, embedder: Embedder, progress: Callable[[int, bool], None]) -> Iterator[np.ndarray]:
    """Each chunk's vector as the normalised mean of the stored vectors of the sentences it holds
    (`members`), EMBED_BATCH chunks at a time; a chunk holding no sentence is embedded instead."""
    for low in range(0, len(chunks), EMBED_BATCH):
        high = min(low + EMBED_BATCH, len(chunks))
        indptr = members.indptr[low : high + 1]
        ids = members.indices[indptr[0] : indptr[-1]]
        first = int(ids.min()) if len(ids) else 0
        span = sentences.vectors(list(range(first, int(ids.max()) + 1))) if len(ids) else np.zeros((0, sentences.dimension), np.float32)
        membership = sparse.csr_matrix((np.ones(len(ids), np.float32), ids - first, indptr - indptr[0]), shape=(high - low, len(span)))
        vectors = np.asarray(membership @ span, dtype=np.float32)
        alone = np.flatnonzero(np.diff(indptr) == 0)
        if len(alone):
            vectors[alone] = embedder.embed_passages([chunks[low + i].search_text for i in alone])
        progress(high - low, False)
        yield vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def normalise_document(doc_id: str, text: str) -> tuple[SearchForm, DocumentMeta]:
    """A document's search form, and its metadata read from it (the repair is done once)."""
    form = search_form(text)
    return form, read_metadata(doc_id, text, form)


def chunk_form(doc_id: str, form: SearchForm, settings: Settings) -> tuple[list[Chunk], list[Sentence]]:
    return chunk_document(doc_id, form, settings.chunk_size, settings.chunk_overlap), split_sentences(doc_id, form)


def _kept_parts(previous: Index, doc_id: str) -> DocumentParts:
    return DocumentParts(previous.form(doc_id), previous.metadata[doc_id], previous.doc_chunks.get(doc_id, []), previous.doc_sentences.get(doc_id, []))


def _done_before(kept: int, prepared: int) -> str:
    """What a stage names as done already: ` (3 unchanged, 2 prepared)`."""
    done = ", ".join(part for part in (f"{kept} unchanged" if kept else "", f"{prepared} prepared" if prepared else "") if part)
    return f" ({done})" if done else ""


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

"""The persisted index: documents, chunks, BM25 and FAISS under one folder with a manifest.

How builds are published and checked on disk is rag/storage.py.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache, cached_property
from itertools import chain
from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag.chunking import (
    Chunk,
    Links,
    Sentence,
    chunk_document,
    link_sentences,
    split_sentences,
)
from rag.config import Settings
from rag.corpus import Corpus, Document, fingerprint
from rag.dense.faiss import FaissIndex
from rag.embedding.model import Embedder
from rag.lexical.bm25 import BM25
from rag.lexical.bridge import Bridge
from rag.lexical.tokenization import get_tokenizer
from rag.normalize import SearchForm, SearchForms, search_form
from rag.storage import IndexDir, IndexStoreError, verify
from rag.timing import Stopwatch

FORMAT_VERSION = 8
# The code that turns documents into index parts. Its digest is in the manifest, so a new normaliser,
# repair rule or chunker makes an older index stale instead of silently different from a fresh one.
PIPELINE_SOURCES = ("normalize.py", "repair.py", "script.py", "chunking.py", "lexical/tokenization.py", "lexical/bm25.py", "lexical/bridge.py")
SENTENCE_VECTORS = "sentences.faiss"
LINKS = "links.npz"  # chunk <-> sentence relation: stored, as computing it is a third of a load
EMBED_BATCH = 32_768  # vectors embedded or copied, then added to FAISS, at a time (48 MB of float32)


@dataclass
class Index:
    manifest: dict
    documents: dict[str, str]  # doc_id -> original text
    chunks: list[Chunk]
    bm25: BM25
    dense: FaissIndex  # one vector per chunk
    sentences: list[Sentence]
    sentence_dense: FaissIndex  # one vector per sentence: precise matches and answer scoring
    bridge: Bridge  # English terms -> Chinese corpus words, for English questions' BM25 side
    forms: SearchForms  # each document's search form and offsets, memory-mapped
    location: Path | None = None  # the build folder it was loaded from or written to
    links: tuple[Links, Links] | None = None  # chunk -> sentences and back; computed when not given

    def __post_init__(self) -> None:
        self.by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        if self.links is None:
            self.links = link_sentences(self.chunks, self.sentences)

    @property
    def chunk_sentences(self) -> Links:
        return self.links[0]

    @property
    def sentence_chunks(self) -> Links:
        return self.links[1]

    def form(self, doc_id: str) -> SearchForm:
        return self.forms.get(doc_id)

    def unchanged(self, docs: list[Document]) -> set[str]:
        """Ids of `docs` this index already holds with the same content."""
        corpus = self.manifest.get("corpus", {})
        return {d.doc_id for d in docs if corpus.get(d.doc_id) == d.sha256 and d.doc_id in self.documents}

    @cached_property
    def doc_chunks(self) -> dict[str, list[Chunk]]:
        """Each document's chunks, in order: grouped once, not scanned for per document."""
        return _by_doc(self.chunks)

    @cached_property
    def doc_sentences(self) -> dict[str, list[Sentence]]:
        return _by_doc(self.sentences)

    @cached_property
    def _sentence_positions(self) -> dict[Sentence, int]:
        return {s: i for i, s in enumerate(self.sentences)}

    def sentence_position(self, sentence: Sentence) -> int | None:
        return self._sentence_positions.get(sentence)

    def write(self, directory: Path) -> dict:
        """Every part into `directory`; returns the manifest to store beside them."""
        with (directory / "documents.json").open("w", encoding="utf-8") as out:
            json.dump(self.documents, out, ensure_ascii=False)
        _write_rows(directory / "chunks.json", ([c.doc_id, c.chunk_id, c.start, c.end, c.search_start, c.search_end, c.search_text] for c in self.chunks))
        _write_rows(directory / "sentences.json", ([s.doc_id, s.search_start, s.search_end] for s in self.sentences))
        self.bm25.save(directory)
        self.dense.save(directory)
        self.sentence_dense.save(directory, SENTENCE_VECTORS)
        self.bridge.save(directory)
        self.forms.save(directory)
        np.savez(directory / LINKS, **self.chunk_sentences.arrays("chunk"), **self.sentence_chunks.arrays("sentence"))
        return dict(self.manifest)

    def repaired(self, doc_id: str, start: int, end: int) -> str:
        """Original characters behind search-form [start, end): the original script and case,
        without the PDF artefacts the search form dropped."""
        return self.form(doc_id).repaired(self.documents[doc_id], start, end)


def _by_doc(items: list) -> dict[str, list]:
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(item.doc_id, []).append(item)
    return groups


def build_index(corpus: Corpus, index_dir: Path, settings: Settings, embedder: Embedder, previous: Index | None = None, clock: Stopwatch | None = None) -> Index:
    """Build and publish an index of `docs`. Documents whose content is unchanged since `previous`
    (built with the same settings) keep their search form, chunks, sentences and vectors; only the
    rest is normalised, chunked and embedded. Corpus-wide parts (BM25 statistics, the bridge, the
    FAISS index) are rebuilt from the union, so the result equals a full rebuild.
    `clock` (optional) gets a lap per stage, for the benchmarks. Call with the index lock held."""
    clock = clock or Stopwatch()
    docs = corpus.documents
    kept = previous.unchanged(docs) if previous else set()
    forms = {d.doc_id: previous.form(d.doc_id) if d.doc_id in kept else search_form(d.text) for d in docs}
    clock.lap("normalise")
    chunks, sentences = [], []
    for doc in tqdm(docs, desc="chunk", unit="doc", file=sys.stderr, disable=len(docs) < 20):
        if doc.doc_id in kept:
            chunks += previous.doc_chunks.get(doc.doc_id, [])
            sentences += previous.doc_sentences.get(doc.doc_id, [])
        else:
            chunks += chunk_document(doc.doc_id, forms[doc.doc_id], settings.chunk_size, settings.chunk_overlap)
            sentences += split_sentences(doc.doc_id, forms[doc.doc_id])
    clock.lap("chunk")
    tokenize = get_tokenizer(settings.tokenizer)
    bm25 = BM25(settings.bm25_k1, settings.bm25_b).index(tokenize(c.search_text) for c in chunks)
    bridge = Bridge.build(form.text for form in forms.values())
    clock.lap("lexical")
    reuse = previous if kept and previous.dense.exact else None
    chunk_batches = vector_batches(chunks, _chunk_text, [reuse.by_id.get(c.chunk_id) for c in chunks] if reuse else None, reuse and reuse.dense, embedder)
    first = next(chunk_batches)
    dense = FaissIndex.build(chain([first], chunk_batches), len(chunks), first.shape[1], settings.dense_index)
    sentence_text = _sentence_text(forms)
    stored = [reuse.sentence_position(s) for s in sentences] if reuse else None
    sentence_batches = vector_batches(sentences, sentence_text, stored, reuse and reuse.sentence_dense, embedder)
    sentence_dense = FaissIndex.build(sentence_batches, len(sentences), dense.dimension, settings.dense_index)
    clock.lap("embed")  # embedding and FAISS insertion interleave, batch by batch
    manifest = {
        "format": FORMAT_VERSION,
        "settings_key": settings.index_key(),
        "settings": settings.as_dict(),
        "model_id": embedder.model_id,
        "pipeline": pipeline_digest(),
        "corpus": {d.doc_id: d.sha256 for d in docs},
        "skipped": corpus.skipped,
        "chunks": len(chunks),
        "reused_documents": len(kept),
    }
    index = Index(manifest, {d.doc_id: d.text for d in docs}, chunks, bm25, dense, sentences, sentence_dense, bridge, SearchForms.of(forms))
    index.location = IndexDir(index_dir).publish(index.write)
    clock.lap("save")
    return index


def vector_batches(items: list, text: Callable[[object], str], stored: list[int | None] | None, source: FaissIndex | None, embedder: Embedder) -> Iterator[np.ndarray]:
    """Vectors of `items` in order, EMBED_BATCH at a time: copied from `source` at position
    `stored[i]` where it holds the same text (None: embed it, through the cache)."""
    for low in range(0, len(items), EMBED_BATCH):
        high = min(low + EMBED_BATCH, len(items))
        positions = stored[low:high] if stored is not None else [None] * (high - low)
        new = [i for i, p in enumerate(positions) if p is None]
        old = [i for i, p in enumerate(positions) if p is not None]
        fresh = embedder.embed_passages([text(items[low + i]) for i in new], progress=True) if new else None
        reused = source.vectors([positions[i] for i in old]) if old else None
        vectors = np.empty((high - low, (fresh if fresh is not None else reused).shape[1]), dtype=np.float32)
        if new:
            vectors[new] = fresh
        if old:
            vectors[old] = reused
        yield vectors


def _chunk_text(chunk: Chunk) -> str:
    return chunk.search_text


def _sentence_text(forms: dict[str, SearchForm]) -> Callable[[Sentence], str]:
    return lambda s: forms[s.doc_id].text[s.search_start : s.search_end]


def _write_rows(path: Path, rows: Iterable) -> None:
    """A JSON array written row by row: a million-chunk table never exists as one string."""
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        for i, row in enumerate(rows):
            out.write(("," if i else "") + json.dumps(row, ensure_ascii=False))
        out.write("]")


def load_index(index_dir: Path) -> Index:
    """The current build, checked against its manifest's checksums and counts."""
    store = IndexDir(index_dir)
    build = store.current()
    manifest = store.manifest(build)  # from the build resolved above, even if CURRENT moves on
    if build is None or manifest is None:
        raise IndexStoreError(f"no index at {index_dir}; run `rag index`")
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexStoreError(f"index at {index_dir} has format {manifest.get('format')}, this version reads {FORMAT_VERSION}; run `rag index --rebuild`")
    verify(build, manifest)
    try:
        documents = json.loads((build / "documents.json").read_text(encoding="utf-8"))
        chunks = [Chunk(*row) for row in json.loads((build / "chunks.json").read_text(encoding="utf-8"))]
        sentences = [Sentence(*row) for row in json.loads((build / "sentences.json").read_text(encoding="utf-8"))]
        parts = BM25.load(build), FaissIndex.load(build), FaissIndex.load(build, SENTENCE_VECTORS), Bridge.load(build), SearchForms.load(build)
        with np.load(build / LINKS) as arrays:
            links = Links.of_arrays(arrays, "chunk"), Links.of_arrays(arrays, "sentence")
    except Exception as exc:  # any unreadable file means the same fix
        raise IndexStoreError(f"index at {index_dir} is damaged ({exc}); run `rag index --rebuild`") from None
    bm25, dense, sentence_dense, bridge, forms = parts
    consistent = len(chunks) == bm25.size == dense.size == manifest.get("chunks") == len(links[0]) and len(sentences) == sentence_dense.size == len(links[1])
    if not consistent or set(forms.spans) != set(documents) or len(forms.codes) != len(forms.offsets):
        raise IndexStoreError(f"index at {index_dir} is inconsistent; run `rag index --rebuild`")
    index = Index(manifest, documents, chunks, bm25, dense, sentences, sentence_dense, bridge, forms, links=links)
    index.location = build
    return index


def mismatch(manifest: dict | None, settings: Settings, model_id: str) -> str | None:
    """Why an index cannot serve these settings, or None when it can."""
    if manifest is None:
        return "no index yet"
    if manifest.get("format") != FORMAT_VERSION:
        return "index format changed"
    if manifest.get("settings_key") != settings.index_key() or manifest.get("model_id") != model_id:
        return "settings or model changed"
    if manifest.get("pipeline") != pipeline_digest():
        return "normaliser or chunker changed"
    return None


@cache
def pipeline_digest() -> str:
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for name in PIPELINE_SOURCES:
        digest.update(name.encode() + b"\0" + (package / name).read_bytes())
    return digest.hexdigest()[:16]


def stale_reason(index_dir: Path, corpus_dir: Path, settings: Settings, model_id: str) -> str | None:
    """Why the index must be (re)built, or None when it matches the corpus and settings."""
    manifest = IndexDir(index_dir).manifest()
    reason = mismatch(manifest, settings, model_id)
    if reason is None and {**manifest.get("corpus", {}), **manifest.get("skipped", {})} != fingerprint(corpus_dir):
        return "corpus changed"
    return reason

"""The persisted index: documents, chunks, BM25 and FAISS under one folder with a manifest.

A build is written to a temporary sibling folder and renamed into place, so a crash mid-build
leaves the previous index as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from rag.chunking import Chunk, Sentence, chunk_document, split_sentences
from rag.config import Settings
from rag.corpus import Document, fingerprint
from rag.dense.faiss import FaissIndex
from rag.embedding.model import Embedder
from rag.lexical.bm25 import BM25
from rag.lexical.bridge import Bridge
from rag.lexical.tokenization import get_tokenizer
from rag.normalize import SearchForm, SearchForms, search_form
from rag.timing import Stopwatch

FORMAT_VERSION = 6
SENTENCE_VECTORS = "sentences.faiss"
MANIFEST = "manifest.json"


class IndexStoreError(RuntimeError):
    """The index folder is missing, damaged or built differently."""


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

    def __post_init__(self) -> None:
        self.by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self.chunk_sentences, self.sentence_chunks = link_sentences(self.chunks, self.sentences)

    def form(self, doc_id: str) -> SearchForm:
        return self.forms.get(doc_id)

    def repaired(self, doc_id: str, start: int, end: int) -> str:
        """Original characters behind search-form [start, end): the original script and case,
        without the PDF artefacts the search form dropped."""
        return self.form(doc_id).repaired(self.documents[doc_id], start, end)


def link_sentences(chunks: list[Chunk], sentences: list[Sentence]) -> tuple[list[list[int]], list[list[int]]]:
    """Which sentences each chunk holds, and the reverse. A sentence belongs to a chunk when at
    least half of the shorter of the two overlaps (long sentences span several chunks)."""
    by_doc: dict[str, list[int]] = {}
    for i, sentence in enumerate(sentences):
        by_doc.setdefault(sentence.doc_id, []).append(i)
    chunk_sentences: list[list[int]] = [[] for _ in chunks]
    sentence_chunks: list[list[int]] = [[] for _ in sentences]
    for c, chunk in enumerate(chunks):
        for i in by_doc.get(chunk.doc_id, []):
            s = sentences[i]
            overlap = min(chunk.search_end, s.search_end) - max(chunk.search_start, s.search_start)
            shorter = min(chunk.search_end - chunk.search_start, s.search_end - s.search_start)
            if overlap * 2 >= shorter > 0:
                chunk_sentences[c].append(i)
                sentence_chunks[i].append(c)
    return chunk_sentences, sentence_chunks


def build_index(docs: list[Document], index_dir: Path, settings: Settings, embedder: Embedder, clock: Stopwatch | None = None) -> Index:
    """Build and save; `clock` (optional) gets a lap per stage, for the benchmarks."""
    clock = clock or Stopwatch()
    forms = {d.doc_id: search_form(d.text) for d in docs}
    clock.lap("normalise")
    chunks = chunk_corpus(docs, forms, settings)
    sentences = [s for d in docs for s in split_sentences(d.doc_id, forms[d.doc_id])]
    clock.lap("chunk")
    tokenize = get_tokenizer(settings.tokenizer)
    bm25 = BM25(settings.bm25_k1, settings.bm25_b).index(tokenize(c.search_text) for c in chunks)
    bridge = Bridge.build(form.text for form in forms.values())
    clock.lap("lexical")
    texts = [c.search_text for c in chunks] + [forms[s.doc_id].text[s.search_start : s.search_end] for s in sentences]
    vectors = embedder.embed_passages(texts, progress=True).reshape(len(texts), embedder.dimension)
    clock.lap("embed")
    dense = FaissIndex.build(vectors[: len(chunks)], settings.dense_index)
    sentence_dense = FaissIndex.build(vectors[len(chunks) :], settings.dense_index)
    clock.lap("dense")
    manifest = {
        "format": FORMAT_VERSION,
        "settings_key": settings.index_key(),
        "settings": settings.as_dict(),
        "model_id": embedder.model_id,
        "corpus": {d.doc_id: d.sha256 for d in docs},
        "chunks": len(chunks),
    }
    index = Index(manifest, {d.doc_id: d.text for d in docs}, chunks, bm25, dense, sentences, sentence_dense, bridge, SearchForms.of(forms))
    save_index(index, index_dir)
    clock.lap("save")
    return index


def chunk_corpus(docs: list[Document], forms: dict[str, SearchForm], settings: Settings) -> list[Chunk]:
    chunks: list[Chunk] = []
    for doc in tqdm(docs, desc="normalise+chunk", unit="doc", file=sys.stderr, disable=len(docs) < 20):
        chunks.extend(chunk_document(doc.doc_id, forms[doc.doc_id], settings.chunk_size, settings.chunk_overlap))
    return chunks


def save_index(index: Index, index_dir: Path) -> None:
    index_dir = index_dir.resolve()
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.tmp-", dir=index_dir.parent))
    try:
        _write(index, tmp)
        old = index_dir.with_name(f".{index_dir.name}.old-{os.getpid()}")
        if index_dir.exists():
            os.replace(index_dir, old)
        os.replace(tmp, index_dir)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write(index: Index, directory: Path) -> None:
    (directory / "documents.json").write_text(json.dumps(index.documents, ensure_ascii=False))
    rows = [[c.doc_id, c.chunk_id, c.start, c.end, c.search_start, c.search_end, c.search_text] for c in index.chunks]
    (directory / "chunks.json").write_text(json.dumps(rows, ensure_ascii=False))
    (directory / "sentences.json").write_text(json.dumps([[s.doc_id, s.search_start, s.search_end] for s in index.sentences]))
    index.bm25.save(directory)
    index.dense.save(directory)
    index.sentence_dense.save(directory, SENTENCE_VECTORS)
    index.bridge.save(directory)
    index.forms.save(directory)
    (directory / MANIFEST).write_text(json.dumps(index.manifest, ensure_ascii=False, indent=1))


def read_manifest(index_dir: Path) -> dict | None:
    try:
        return json.loads((index_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def stale_reason(index_dir: Path, corpus_dir: Path, settings: Settings, model_id: str) -> str | None:
    """Why the index must be (re)built, or None when it matches the corpus and settings."""
    manifest = read_manifest(index_dir)
    if manifest is None:
        return "no index yet"
    if manifest.get("format") != FORMAT_VERSION:
        return "index format changed"
    if manifest.get("settings_key") != settings.index_key() or manifest.get("model_id") != model_id:
        return "settings or model changed"
    if manifest.get("corpus") != fingerprint(corpus_dir):
        return "corpus changed"
    return None


def load_index(index_dir: Path) -> Index:
    manifest = read_manifest(index_dir)
    if manifest is None:
        raise IndexStoreError(f"no index at {index_dir}; run `rag index`")
    try:
        documents = json.loads((index_dir / "documents.json").read_text())
        rows = json.loads((index_dir / "chunks.json").read_text())
        chunks = [Chunk(*row) for row in rows]
        bm25 = BM25.load(index_dir)
        dense = FaissIndex.load(index_dir)
        sentences = [Sentence(*row) for row in json.loads((index_dir / "sentences.json").read_text())]
        sentence_dense = FaissIndex.load(index_dir, SENTENCE_VECTORS)
        bridge = Bridge.load(index_dir)
        forms = SearchForms.load(index_dir)
    except Exception as exc:  # any damaged file means the same fix
        raise IndexStoreError(f"index at {index_dir} is damaged ({exc}); run `rag index --rebuild`") from None
    consistent = len(chunks) == bm25.size == dense.size == manifest.get("chunks") and len(sentences) == sentence_dense.size
    if not consistent or set(forms.spans) != set(documents) or len(forms.codes) != len(forms.offsets):
        raise IndexStoreError(f"index at {index_dir} is inconsistent; run `rag index --rebuild`")
    return Index(manifest, documents, chunks, bm25, dense, sentences, sentence_dense, bridge, forms)


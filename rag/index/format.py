"""The files of one build and its manifest: what is written, how it is read back and checked, and
when an index no longer matches the code or the settings."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from rag.crosslingual.bridge import Bridge
from rag.index.bm25 import BM25
from rag.index.faiss import FaissIndex
from rag.index.index import Index
from rag.index.publish import IndexStoreError
from rag.ingest.chunking import Chunk, Links, Sentence
from rag.ingest.metadata import DocumentMeta
from rag.ingest.normalize import SearchForms
from rag.settings import Settings

FORMAT_VERSION = 10
# The code that turns documents into index parts. Its digest is in the manifest, so a new normaliser,
# repair rule or chunker makes an older index stale instead of silently different from a fresh one.
PIPELINE_SOURCES = (
    "ingest/corpus.py", "ingest/frontmatter.py", "ingest/metadata.py", "ingest/normalize.py", "ingest/repair.py", "ingest/script.py", "ingest/chunking.py", "ingest/tokenization.py",
    "index/bm25.py", "crosslingual/bridge.py",
)  # fmt: skip
SENTENCE_VECTORS = "sentences.faiss"
METADATA = "metadata.json"  # doc_id -> headline, source, date
LINKS = "links.npz"  # chunk <-> sentence relation: stored, as computing it is a third of a load


def write_index(index: Index, directory: Path) -> dict[str, Any]:
    """Every part into `directory`; returns the manifest to store beside them."""
    with (directory / "documents.json").open("w", encoding="utf-8") as out:
        json.dump(index.documents, out, ensure_ascii=False)
    with (directory / METADATA).open("w", encoding="utf-8") as out:
        json.dump({doc_id: meta.as_dict() for doc_id, meta in index.metadata.items()}, out, ensure_ascii=False)
    _write_rows(directory / "chunks.json", ([c.doc_id, c.chunk_id, c.start, c.end, c.search_start, c.search_end, c.search_text] for c in index.chunks))
    _write_rows(directory / "sentences.json", ([s.doc_id, s.search_start, s.search_end] for s in index.sentences))
    index.bm25.save(directory)
    index.dense.save(directory)
    index.sentence_dense.save(directory, SENTENCE_VECTORS)
    index.bridge.save(directory)
    index.forms.save(directory)
    arrays = {**index.chunk_sentences.arrays("chunk"), **index.sentence_chunks.arrays("sentence")}
    np.savez(directory / LINKS, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool
    return dict(index.manifest)


def read_index(build: Path, manifest: dict[str, Any], settings: Settings) -> Index:
    """The index stored in `build` (its checksums already verified), checked for consistency."""
    try:
        documents = json.loads((build / "documents.json").read_text(encoding="utf-8"))
        metadata = {doc_id: DocumentMeta(**meta) for doc_id, meta in json.loads((build / METADATA).read_text(encoding="utf-8")).items()}
        chunks = [Chunk(*row) for row in json.loads((build / "chunks.json").read_text(encoding="utf-8"))]
        sentences = [Sentence(*row) for row in json.loads((build / "sentences.json").read_text(encoding="utf-8"))]
        bm25, bridge, forms = BM25.load(build), Bridge.load(build), SearchForms.load(build)
        dense, sentence_dense = FaissIndex.load(build, settings), FaissIndex.load(build, settings, SENTENCE_VECTORS)
        with np.load(build / LINKS) as arrays:
            links = Links.of_arrays(arrays, "chunk"), Links.of_arrays(arrays, "sentence")
    except Exception as exc:  # any unreadable file means the same fix
        raise IndexStoreError(f"index at {build.parent} is damaged ({exc}); run `rag index --rebuild`") from None
    consistent = len(chunks) == bm25.size == dense.size == manifest.get("chunks") == len(links[0]) and len(sentences) == sentence_dense.size == len(links[1])
    if not consistent or not set(forms.spans) == set(documents) == set(metadata) or len(forms.codes) != len(forms.offsets):
        raise IndexStoreError(f"index at {build.parent} is inconsistent; run `rag index --rebuild`")
    return Index(manifest, documents, chunks, bm25, dense, sentences, sentence_dense, bridge, forms, metadata, location=build, links=links)


def mismatch(manifest: dict[str, Any] | None, settings: Settings, model_id: str) -> str | None:
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
    package = Path(__file__).parents[1]
    digest = hashlib.sha256()
    for name in PIPELINE_SOURCES:
        digest.update(name.encode() + b"\0" + (package / name).read_bytes())
    return digest.hexdigest()[:16]


def _write_rows(path: Path, rows: Iterable[list[Any]]) -> None:
    """A JSON array written row by row: a million-chunk table never exists as one string."""
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        for i, row in enumerate(rows):
            out.write(("," if i else "") + json.dumps(row, ensure_ascii=False))
        out.write("]")

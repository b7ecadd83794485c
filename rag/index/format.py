"""The files of one build and its manifest: what is written, how it is read back and checked, and
when an index no longer matches the code or the settings."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from rag.crosslingual.bridge import Bridge
from rag.index.bm25 import BM25
from rag.index.index import Index
from rag.index.publish import IndexDir, IndexStoreError
from rag.index.tables import ChunkTable, Documents, SentenceTable
from rag.ingest.chunking import Links
from rag.ingest.metadata import DocumentMeta
from rag.ingest.normalize import SearchForms
from rag.settings import Settings
from rag.store.base import Catalogue, Part
from rag.store.factory import open_store, sweep_store, write_store

FORMAT_VERSION = 11
# The code that turns documents into index parts. Its digest is in the manifest, so a new normaliser,
# repair rule or chunker makes an older index stale instead of silently different from a fresh one.
PIPELINE_SOURCES = (
    "ingest/corpus.py", "ingest/frontmatter.py", "ingest/metadata.py", "ingest/normalize.py", "ingest/repair.py", "ingest/script.py", "ingest/chunking.py", "ingest/tokenization.py",
    "index/bm25.py", "crosslingual/bridge.py",
)  # fmt: skip
METADATA = "metadata.json"  # doc_id -> headline, source, date
LINKS = "links.npz"  # chunk <-> sentence relation: stored, as computing it is a third of a load


def publish_index(index: Index, index_dir: Path, settings: Settings) -> Path:
    """`index` written as the new current build of `index_dir`; the store then drops what pruned
    builds kept in it. Call with the index lock held."""
    return IndexDir(index_dir).publish(lambda folder, name: write_index(index, folder, name, settings), lambda kept: sweep_store(index_dir, kept, settings))


def write_index(index: Index, directory: Path, name: str, settings: Settings) -> dict[str, Any]:
    """Every part into `directory` (the build `name`), its vectors and postings into the store
    `settings.store` names, where `index` then searches; returns the manifest to store beside them."""
    doc_ids = Documents.write(directory, index.documents)
    with (directory / METADATA).open("w", encoding="utf-8") as out:
        json.dump({doc_id: meta.as_dict() for doc_id, meta in index.metadata.items()}, out, ensure_ascii=False)
    ChunkTable.write(directory, index.chunks, doc_ids)
    SentenceTable.write(directory, index.sentences, doc_ids)
    index.bm25.save(directory)
    index.bridge.save(directory)
    index.forms.save(directory)
    arrays = {**index.chunk_sentences.arrays("chunk"), **index.sentence_chunks.arrays("sentence")}
    np.savez(directory / LINKS, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool
    catalogue = Catalogue(index.chunks, index.sentences, index.bm25)
    index.store, index.manifest["store"] = write_store(index.store, catalogue, directory, name, settings)
    return dict(index.manifest)


def read_index(build: Path, manifest: dict[str, Any], settings: Settings) -> Index:
    """The index stored in `build` (its checksums already verified), checked for consistency."""
    try:
        documents, forms = Documents.load(build), SearchForms.load(build)
        metadata = {doc_id: DocumentMeta(**meta) for doc_id, meta in json.loads((build / METADATA).read_text(encoding="utf-8")).items()}
        chunks, sentences = ChunkTable.load(build, documents.ids, forms), SentenceTable.load(build, documents.ids)
        bm25, bridge = BM25.load(build), Bridge.load(build)
        with np.load(build / LINKS) as arrays:
            links = Links.of_arrays(arrays, "chunk"), Links.of_arrays(arrays, "sentence")
        store = open_store(build, manifest, bm25, settings)
    except IndexStoreError:  # the store's own reason (Milvus unreachable, a collection missing)
        raise
    except Exception as exc:  # any unreadable file means the same fix
        raise IndexStoreError(f"index at {build.parent} is damaged ({exc}); run `rag index --rebuild`") from None
    consistent = len(chunks) == bm25.size == store.size(Part.CHUNKS) == manifest.get("chunks") == len(links[0]) and len(sentences) == store.size(Part.SENTENCES) == len(links[1])
    if not consistent or not set(forms.spans) == set(documents) == set(metadata) or len(forms.codes) != len(forms.offsets):
        raise IndexStoreError(f"index at {build.parent} is inconsistent; run `rag index --rebuild`")
    return Index(manifest, documents, chunks, bm25, store, sentences, bridge, forms, metadata, location=build, links=links)


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

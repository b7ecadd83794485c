"""An index's life beside its corpus folder: load the current build, tell when it is stale, and
bring it up to date as the one writer."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from rag.embedding.model import Embedder
from rag.index.build import build_index
from rag.index.format import FORMAT_VERSION, mismatch, read_index
from rag.index.index import Index
from rag.index.publish import IndexDir, IndexStoreError, verify
from rag.ingest.corpus import Corpus, fingerprint, load_corpus
from rag.settings import Settings

logger = logging.getLogger(__name__)
Builder = Callable[[Corpus, Path, Settings, Embedder, Index | None], Index]  # build_index, or rag/index/distributed.py's RayBuild


def load_index(index_dir: Path, settings: Settings) -> Index:
    """The current build, checked against its manifest's checksums and counts."""
    store = IndexDir(index_dir)
    build = store.current()
    manifest = store.manifest(build)  # from the build resolved above, even if CURRENT moves on
    if build is None or manifest is None:
        raise IndexStoreError(f"no index at {index_dir}; run `rag index`")
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexStoreError(f"index at {index_dir} has format {manifest.get('format')}, this version reads {FORMAT_VERSION}; run `rag index --rebuild`")
    verify(build, manifest)
    return read_index(build, manifest, settings)


def stale_reason(index_dir: Path, corpus_dir: Path, settings: Settings, model_id: str) -> str | None:
    """Why the index must be (re)built, or None when it matches the corpus and settings."""
    manifest = IndexDir(index_dir).manifest()
    reason = mismatch(manifest, settings, model_id)
    if reason is None and manifest is not None and {**manifest.get("corpus", {}), **manifest.get("skipped", {})} != fingerprint(corpus_dir):
        return "corpus changed"
    return reason


def open_index(corpus_dir: Path, index_dir: Path, settings: Settings, embedder: Embedder, rebuild: bool = False, build: Builder = build_index) -> Index:
    """Load the index, bringing it up to date first when missing, stale or when asked to."""
    if not rebuild and stale_reason(index_dir, corpus_dir, settings, embedder.model_id) is None:
        return load_index(index_dir, settings)
    return update_index(corpus_dir, index_dir, settings, embedder, rebuild=rebuild, build=build)


def update_index(
    corpus_dir: Path, index_dir: Path, settings: Settings, embedder: Embedder, change: Callable[[], object] | None = None, rebuild: bool = False, build: Builder = build_index
) -> Index:
    """As the one writer (the index lock): apply `change` to the corpus folder (rag add / remove),
    then rebuild what is stale, re-processing only documents whose content changed."""
    with IndexDir(index_dir).lock():
        if change is not None:
            change()
        reason = "rebuild requested" if rebuild else stale_reason(index_dir, corpus_dir, settings, embedder.model_id)
        if reason is None:  # another writer brought it up to date while we waited
            return load_index(index_dir, settings)
        corpus = load_corpus(corpus_dir)  # read and check every file before announcing a build
        previous = None if rebuild else reusable_index(index_dir, settings, embedder.model_id)
        total = len(corpus.documents)
        todo = total - (len(previous.unchanged(corpus.documents)) if previous else 0)
        logger.info("building index in %s (%s; %d of %d documents to process)", index_dir, reason, todo, total)
        return build(corpus, index_dir, settings, embedder, previous)


def update_in_child(corpus_dir: Path, index_dir: Path, settings: Settings, change: Callable[[], object]) -> None:
    """`update_index`, its build in a child process (`rag index`). A server calls this: a build is
    seconds of Python, and in the server's own process it would hold the GIL against the requests
    being served (health probes stalled 150-300 ms beside a question thread). The change is
    applied under the index lock first; the child then takes the lock and builds what is stale."""
    with IndexDir(index_dir).lock():
        change()
    environment = {**os.environ, **settings.as_environment(), "RAG_CORPUS": str(corpus_dir), "RAG_INDEX": str(index_dir)}
    done = subprocess.run([sys.executable, "-m", "rag", "index", "--quiet"], env=environment, capture_output=True, text=True)
    if done.returncode:
        why = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        raise IndexStoreError(f"the index build failed: {why[0].removeprefix('rag: error: ')}")


def reusable_index(index_dir: Path, settings: Settings, model_id: str) -> Index | None:
    """The current index if an update can start from it (same format, settings and model, intact)."""
    if mismatch(IndexDir(index_dir).manifest(), settings, model_id):
        return None
    try:
        return load_index(index_dir, settings)
    except IndexStoreError:
        return None

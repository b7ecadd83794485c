"""The store of an index, by kind: `settings.store` for a build being written, the manifest's
record for one being read. Apart from base.py, whose subclasses it imports (an import cycle
otherwise), and lazily: pymilvus loads only when an index lives in Milvus."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rag.index.bm25 import BM25
from rag.settings import Settings, StoreKind
from rag.store.base import Catalogue, Store


def store_class(kind: StoreKind | str) -> type[Store]:
    if StoreKind(kind) == StoreKind.MILVUS:
        from rag.store.milvus import MilvusStore

        return MilvusStore
    from rag.store.local import LocalStore

    return LocalStore


def write_store(built: Store, catalogue: Catalogue, directory: Path, name: str, settings: Settings) -> tuple[Store, dict[str, Any]]:
    """The vectors a build made, stored where `settings.store` says (see Store.write)."""
    return store_class(settings.store).write(built, catalogue, directory, name, settings)


def open_store(build: Path, manifest: dict[str, Any], bm25: BM25, settings: Settings) -> Store:
    """The store the build's manifest records (builds from before stores were recorded: local)."""
    record = manifest.get("store") or {"kind": StoreKind.LOCAL.value}
    return store_class(record["kind"]).open(build, record, bm25, settings)


def sweep_store(root: Path, kept: set[str], settings: Settings) -> None:
    store_class(settings.store).sweep(root, kept, settings)


def one_process(settings: Settings) -> bool:
    """Whether the store opens in one process at a time (Milvus Lite's data folder): an update
    must then build in the process that serves, not in a child beside it."""
    if settings.store != StoreKind.MILVUS:
        return False
    from rag.store.milvus import embedded

    return embedded(settings.milvus_uri)

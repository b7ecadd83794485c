"""The index folder on disk: immutable builds, an atomically replaced pointer, checksums, a lock.

    index/
      CURRENT             name of the build in use (replaced with os.replace: readers see the old
                          name or the new one, never a half-written index)
      build-<ns>-<pid>/   one complete build; manifest.json lists every file's size and sha256,
                          sealed.json each file's size, mtime and inode as the writer left them
      .lock               held (flock) by the one process writing
      .tmp-*/             a build in progress; left behind only by a killed writer, removed by the next
      milvus.db/          with RAG_STORE=milvus and no RAG_MILVUS_URI: Milvus Lite's data, holding
                          each build's collections (rag/store/milvus.py), dropped with its build

A reader resolves CURRENT once and reads that build; the writer keeps the previous build on disk,
so a reader that resolved the pointer just before a swap still finds its files.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.checksums import sha256_file

logger = logging.getLogger(__name__)
POINTER = "CURRENT"
LOCK = ".lock"
MANIFEST = "manifest.json"
SEALED = "sealed.json"  # the files' stat as written: a file still so needs no re-hashing on load
BUILD_PREFIX = "build-"
TMP_PREFIX = ".tmp-"
# Files of the version-5 layout (everything directly in the folder), removed on the next write.
LEGACY_FILES = (
    "manifest.json", "documents.json", "chunks.json", "sentences.json", "bm25.npz", "bm25.json",
    "dense.faiss", "sentences.faiss", "bridge.json", "forms.json", "forms_text.npy", "forms_offsets.npy",
)  # fmt: skip


class IndexStoreError(RuntimeError):
    """The index folder is missing, damaged, locked or built differently."""


class IndexDir:
    def __init__(self, root: Path):
        self.root = Path(root)

    def current(self) -> Path | None:
        """The build in use, or None when there is none (or only an old-layout index)."""
        try:
            name = (self.root / POINTER).read_text().strip()
        except OSError:
            return None
        build = self.root / name
        return build if name.startswith(BUILD_PREFIX) and build.is_dir() else None

    def manifest(self, build: Path | None = None) -> dict | None:
        """The manifest of `build` (default: the current one)."""
        build = build or self.current()
        try:
            return json.loads((build / MANIFEST).read_text()) if build else None
        except (OSError, ValueError):
            return None

    @contextmanager
    def lock(self) -> Iterator[None]:
        """One writer at a time. The lock is an flock, so the kernel releases it when its holder
        dies: a killed build never leaves the index locked."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                logger.warning("waiting for another rag process to finish writing %s", self.root)
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def publish(self, write: Callable[[Path, str], dict], pruned: Callable[[set[str]], None] | None = None) -> Path:
        """Write a new build with `write(folder, build name) -> manifest`, then make it current. Call
        with the lock held. Until the pointer is replaced nothing a reader sees has changed. Then
        older builds are pruned, and `pruned(kept build names)` removes what they kept elsewhere
        (their Milvus collections)."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._remove_leftovers()
        name = f"{BUILD_PREFIX}{time.time_ns()}-{os.getpid()}"
        tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=self.root))
        try:
            manifest = write(tmp, name)
            manifest["files"] = {p.name: _sealed(p) for p in sorted(tmp.iterdir())}
            _write_synced(tmp / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
            _write_synced(tmp / SEALED, json.dumps({name: _stat(tmp / name) for name in manifest["files"]}))
            _sync_dir(tmp)
            build = self.root / name
            os.replace(tmp, build)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        previous = self.current()
        pointer = self.root / f"{TMP_PREFIX}{POINTER}"
        _write_synced(pointer, build.name)
        os.replace(pointer, self.root / POINTER)
        _sync_dir(self.root)
        kept = {build.name, previous.name if previous else ""}
        self._prune(keep=kept)
        if pruned is not None:
            pruned(kept)
        return build

    def _remove_leftovers(self) -> None:
        """Temporary folders of writers that died: safe to delete because we hold the lock."""
        for path in self.root.glob(f"{TMP_PREFIX}*"):
            _remove(path)

    def _prune(self, keep: set[str]) -> None:
        for path in self.root.iterdir():
            if (path.name.startswith(BUILD_PREFIX) and path.name not in keep) or path.name in LEGACY_FILES:
                _remove(path)


def file_record(path: Path) -> dict:
    return {"bytes": path.stat().st_size, "sha256": sha256_file(path)}


def verify(build: Path, manifest: dict) -> None:
    """Every file the manifest lists is present with its size and checksum: a truncated or
    corrupted file is reported instead of producing wrong answers. A file whose size, mtime and
    inode are still those the writer sealed has not been written since, and is not re-hashed: a
    million-chunk index holds gigabytes, and hashing them took longer than the rest of a load."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise IndexStoreError(f"index at {build.parent} has no file checksums; run `rag index --rebuild`")
    sealed = _sealed_stats(build)
    for name, expected in files.items():
        path = build / name
        if not path.is_file():
            raise IndexStoreError(f"index at {build.parent} is missing {name}; run `rag index --rebuild`")
        stat = _stat(path)
        if stat == sealed.get(name) and stat[0] == expected.get("bytes"):
            continue
        if file_record(path) != expected:
            raise IndexStoreError(f"index file {name} at {build.parent} is damaged (checksum mismatch); run `rag index --rebuild`")


def _stat(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def _sealed_stats(build: Path) -> dict:
    try:
        sealed = json.loads((build / SEALED).read_text())
    except (OSError, ValueError):
        return {}
    return sealed if isinstance(sealed, dict) else {}


def _sealed(path: Path) -> dict:
    """Flushed to disk, then described for the manifest."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())
    return file_record(path)


def _write_synced(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)

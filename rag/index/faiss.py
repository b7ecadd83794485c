"""Inner-product search over L2-normalised vectors with FAISS (so scores are cosines).

The index type follows the number of vectors (see `choose_kind`, measured by bench/scale.py):
exact flat search while it is fast enough, HNSW graphs beyond, IVF-PQ codes when even the raw
vectors would crowd memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag.settings import DenseIndexKind, Settings

FILE = "dense.faiss"


@contextmanager
def all_cores():
    """Builds use every core; searches run on one. A single query gains little from OpenMP, and
    its idle threads spinning afterwards slow the next question's embedding (bench/scale.py)."""
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(1)


faiss.omp_set_num_threads(1)


def _train_on_first(index: faiss.Index, batches: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Train on the first `size` vectors of the stream (holding only those), then yield them and
    the rest for adding. A prefix rather than a random sample: the stream is never held whole."""
    held, count = [], 0
    for batch in batches:
        held.append(batch)
        count += len(batch)
        if count >= size:
            break
    if held:
        index.train(np.concatenate(held))
    yield from held
    yield from batches


def choose_kind(n: int, settings: Settings, kind: DenseIndexKind | str | None = None) -> DenseIndexKind:
    """The index type for `n` vectors: `kind` (default: the setting) unless it is AUTO."""
    try:
        chosen = DenseIndexKind(kind if kind is not None else settings.dense_index)
    except ValueError:
        raise ValueError(f"unknown dense index kind {kind!r} (known: {', '.join(k.value for k in DenseIndexKind)})") from None
    if chosen != DenseIndexKind.AUTO:
        return chosen
    return DenseIndexKind.FLAT if n <= settings.flat_max else DenseIndexKind.HNSW if n <= settings.hnsw_max else DenseIndexKind.IVFPQ


class FaissIndex:
    def __init__(self, index: faiss.Index):
        self.index = index

    @classmethod
    def build(cls, batches: Iterable[np.ndarray], n: int, dimension: int, settings: Settings, kind: DenseIndexKind | str | None = None) -> FaissIndex:
        """An index of the `n` vectors that `batches` yields in order. Vectors are added a batch at
        a time, so a build never holds more than one batch besides the index itself."""
        kind = choose_kind(n, settings, kind)
        index: Any  # FAISS's stubs miss the SWIG overloads used here
        if kind == DenseIndexKind.FLAT:
            index = faiss.IndexFlatIP(dimension)
        elif kind == DenseIndexKind.HNSW:  # fp16 storage: half the memory, cosines within ~1e-3 (bench/scale.py)
            index = faiss.IndexHNSWSQ(dimension, faiss.ScalarQuantizer.QT_fp16, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)  # type: ignore[arg-type]
            index.hnsw.efConstruction = settings.hnsw_ef_construction
        else:
            lists = max(1, min(65_536, int(4 * np.sqrt(n))))
            codes = max(m for m in range(1, settings.pq_max_bytes + 1) if dimension % m == 0 and dimension // m >= 4)
            index = faiss.IndexIVFPQ(faiss.IndexFlatIP(dimension), dimension, lists, codes, 8, faiss.METRIC_INNER_PRODUCT)
        batches = (np.ascontiguousarray(b, dtype=np.float32) for b in batches)
        with all_cores():
            if kind == DenseIndexKind.IVFPQ:
                batches = _train_on_first(index, batches, settings.pq_train_per_list * index.nlist)
            for batch in batches:
                index.add(batch)
        if index.ntotal != n:
            raise ValueError(f"expected {n} vectors, got {index.ntotal}")
        return cls(index)._tuned(settings)

    def _tuned(self, settings: Settings) -> FaissIndex:
        """Search-time parameters, which FAISS does not persist with every index type."""
        if isinstance(self.index, faiss.IndexHNSW):
            self.index.hnsw.efSearch = settings.hnsw_ef_search
        elif isinstance(self.index, faiss.IndexIVF):
            self.index.nprobe = settings.ivf_nprobe
            self.index.make_direct_map()
        return self

    @property
    def size(self) -> int:
        return self.index.ntotal

    @property
    def dimension(self) -> int:
        return self.index.d

    @property
    def exact(self) -> bool:
        """Whether stored vectors come back as stored, so that adding them to a new index stores
        the same values (fp16 values are fp16 again; IVF-PQ keeps only lossy codes)."""
        return isinstance(self.index, (faiss.IndexFlat, faiss.IndexHNSW))

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k chunk indices and cosine scores for one query vector, best first."""
        k = min(k, self.size)
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        scores, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def vectors(self, ids: list[int]) -> np.ndarray:
        """Stored vectors by position (exact for flat and HNSW, decoded codes for IVF-PQ)."""
        if not ids:
            return np.zeros((0, self.index.d), dtype=np.float32)
        return self.index.reconstruct_batch(np.asarray(ids, dtype=np.int64))

    def save(self, directory: Path, name: str = FILE) -> None:
        faiss.write_index(self.index, str(directory / name))

    @classmethod
    def load(cls, directory: Path, settings: Settings, name: str = FILE) -> FaissIndex:
        """The stored vectors memory-mapped, not read in (IO_FLAG_MMAP_IFC: flat and HNSW storage):
        a loaded index costs page cache, not private memory, and loads in milliseconds."""
        return cls(faiss.read_index(str(directory / name), faiss.IO_FLAG_MMAP_IFC))._tuned(settings)

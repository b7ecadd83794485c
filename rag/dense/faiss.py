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

import faiss
import numpy as np

FILE = "dense.faiss"
KINDS = ("auto", "flat", "hnsw", "ivfpq")
FLAT_MAX = 50_000  # exact search stays within a few ms up to here
HNSW_MAX = 5_000_000  # beyond, 4 bytes x 384 dims per vector (1.5 GB per million) crowds memory
HNSW_M, HNSW_EF_BUILD, HNSW_EF_SEARCH = 32, 80, 128
PQ_MAX_BYTES = 64  # IVF-PQ code size per vector: at most 64 one-byte codes of at least 4 dims each
TRAIN_PER_LIST = 256  # IVF-PQ training vectors per inverted list


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


def choose_kind(n: int, kind: str = "auto") -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown dense index kind {kind!r} (known: {', '.join(KINDS)})")
    if kind != "auto":
        return kind
    return "flat" if n <= FLAT_MAX else "hnsw" if n <= HNSW_MAX else "ivfpq"


class FaissIndex:
    def __init__(self, index: faiss.Index):
        self.index = index

    @classmethod
    def build(cls, batches: Iterable[np.ndarray], n: int, dimension: int, kind: str = "auto") -> "FaissIndex":
        """An index of the `n` vectors that `batches` yields in order. Vectors are added a batch at
        a time, so a build never holds more than one batch besides the index itself."""
        kind = choose_kind(n, kind)
        if kind == "flat":
            index = faiss.IndexFlatIP(dimension)
        elif kind == "hnsw":  # fp16 storage: half the memory, cosines within ~1e-3 (bench/scale.py)
            index = faiss.IndexHNSWSQ(dimension, faiss.ScalarQuantizer.QT_fp16, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_BUILD
        else:
            lists = max(1, min(65_536, int(4 * np.sqrt(n))))
            codes = max(m for m in range(1, PQ_MAX_BYTES + 1) if dimension % m == 0 and dimension // m >= 4)
            index = faiss.IndexIVFPQ(faiss.IndexFlatIP(dimension), dimension, lists, codes, 8, faiss.METRIC_INNER_PRODUCT)
        batches = (np.ascontiguousarray(b, dtype=np.float32) for b in batches)
        with all_cores():
            if kind == "ivfpq":
                batches = _train_on_first(index, batches, TRAIN_PER_LIST * index.nlist)
            for batch in batches:
                index.add(batch)
        if index.ntotal != n:
            raise ValueError(f"expected {n} vectors, got {index.ntotal}")
        return cls(index)._tuned()

    def _tuned(self) -> "FaissIndex":
        """Search-time parameters, which FAISS does not persist with every index type."""
        if isinstance(self.index, faiss.IndexHNSW):
            self.index.hnsw.efSearch = HNSW_EF_SEARCH
        elif isinstance(self.index, faiss.IndexIVF):
            self.index.nprobe = 32
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
    def load(cls, directory: Path, name: str = FILE) -> "FaissIndex":
        return cls(faiss.read_index(str(directory / name)))._tuned()

"""Inner-product search over L2-normalised vectors with FAISS (so scores are cosines).

The index type follows the number of vectors (see `choose_kind`, measured by bench/scale.py):
exact flat search while it is fast enough, HNSW graphs beyond, IVF-PQ codes when even the raw
vectors would crowd memory.
"""

from __future__ import annotations

import os
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
    def build(cls, vectors: np.ndarray, kind: str = "auto") -> "FaissIndex":
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, d = vectors.shape
        kind = choose_kind(n, kind)
        if kind == "flat":
            index = faiss.IndexFlatIP(d)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_BUILD
        else:
            lists = max(1, min(65_536, int(4 * np.sqrt(n))))
            codes = max(m for m in range(1, PQ_MAX_BYTES + 1) if d % m == 0 and d // m >= 4)
            index = faiss.IndexIVFPQ(faiss.IndexFlatIP(d), d, lists, codes, 8, faiss.METRIC_INNER_PRODUCT)
        with all_cores():
            if kind == "ivfpq":
                index.train(vectors[np.random.default_rng(0).permutation(n)[: 256 * lists]])
            index.add(vectors)
        return cls(index)._tuned()

    def _tuned(self) -> "FaissIndex":
        """Search-time parameters, which FAISS does not persist with every index type."""
        if isinstance(self.index, faiss.IndexHNSWFlat):
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
        """Whether stored vectors come back exactly (IVF-PQ keeps only lossy codes)."""
        return isinstance(self.index, (faiss.IndexFlat, faiss.IndexHNSWFlat))

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

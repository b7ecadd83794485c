"""Inner-product search over L2-normalised vectors with FAISS (so scores are cosines)."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

FILE = "dense.faiss"


class FaissIndex:
    def __init__(self, index: faiss.Index):
        self.index = index

    @classmethod
    def build(cls, vectors: np.ndarray) -> "FaissIndex":
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        return cls(index)

    @property
    def size(self) -> int:
        return self.index.ntotal

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k chunk indices and cosine scores for one query vector, best first."""
        k = min(k, self.size)
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        scores, ids = self.index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def vectors(self, ids: list[int]) -> np.ndarray:
        """Stored vectors by position (exact for flat indexes)."""
        if not ids:
            return np.zeros((0, self.index.d), dtype=np.float32)
        return np.stack([self.index.reconstruct(int(i)) for i in ids])

    def save(self, directory: Path, name: str = FILE) -> None:
        faiss.write_index(self.index, str(directory / name))

    @classmethod
    def load(cls, directory: Path, name: str = FILE) -> "FaissIndex":
        return cls(faiss.read_index(str(directory / name)))

"""The local store: BM25's sparse matrix and two FAISS indexes (chunks, sentences), searched in
this process and saved as files of the build folder. The default, and the reference the Milvus
store is measured against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rag.index.bm25 import BM25, top_scores
from rag.index.faiss import FaissIndex
from rag.settings import Settings, StoreKind
from rag.store.base import Catalogue, Part, Ranking, Store

SENTENCE_VECTORS = "sentences.faiss"  # the chunks' index keeps FaissIndex's default name, dense.faiss


class LocalStore(Store):
    kind = StoreKind.LOCAL

    def __init__(self, bm25: BM25, chunks: FaissIndex, sentences: FaissIndex):
        self.bm25, self.chunks, self.sentences = bm25, chunks, sentences
        self._last: tuple[tuple[str, ...], np.ndarray] = ((), np.zeros(0, np.float32))  # the last query's scores

    def lexical(self, tokens: list[str], k: int) -> Ranking:
        return top_scores(self._scores(tokens), k)

    def lexical_scores(self, tokens: list[str], chunks: list[int]) -> np.ndarray:
        return self._scores(tokens)[chunks]

    def _scores(self, tokens: list[str]) -> np.ndarray:
        """Every chunk's BM25 score, kept for the query that asked last: a search ranks the pool
        and then scores its hits with the same tokens, and at 1M chunks each pass costs ~12 ms."""
        key = tuple(tokens)
        last = self._last  # one read: another thread may replace it
        if last[0] != key or not len(last[1]):
            last = (key, self.bm25.scores(tokens))
            self._last = last
        return last[1]

    def dense(self, part: Part, vector: np.ndarray, k: int) -> Ranking:
        return self._faiss(part).search(vector, k)

    def vectors(self, part: Part, ids: list[int]) -> np.ndarray:
        return self._faiss(part).vectors(ids)

    def size(self, part: Part) -> int:
        return self._faiss(part).size

    @property
    def exact(self) -> bool:
        return self.chunks.exact and self.sentences.exact

    def _faiss(self, part: Part) -> FaissIndex:
        return self.chunks if part == Part.CHUNKS else self.sentences

    @classmethod
    def write(cls, built: Store, catalogue: Catalogue, directory: Path, name: str, settings: Settings) -> tuple[Store, dict[str, Any]]:
        if not isinstance(built, LocalStore):
            raise TypeError(f"a local store is written from the FAISS indexes of a build, not from a {built.kind} store")
        built.chunks.save(directory)
        built.sentences.save(directory, SENTENCE_VECTORS)
        return built, {"kind": cls.kind.value}

    @classmethod
    def open(cls, build: Path, record: dict[str, Any], bm25: BM25, settings: Settings) -> Store:
        return cls(bm25, FaissIndex.load(build, settings), FaissIndex.load(build, settings, SENTENCE_VECTORS))

    @classmethod
    def sweep(cls, root: Path, kept: set[str], settings: Settings) -> None:
        """Nothing: a local store lives in its build folder, pruned with it."""

"""The search side of an index, whichever store holds it: what the engine asks of vectors and
postings, as one small abstract class with one subclass per backend (txtai's pattern; the factory
is rag/store/factory.py). Positions (rows of index.chunks and index.sentences) are the ids in
every store, so the catalogue in the build folder names the same rows whichever store serves."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from rag.index.bm25 import BM25
from rag.ingest.chunking import Chunk, Sentence
from rag.settings import Settings, StoreKind

Ranking = tuple[np.ndarray, np.ndarray]  # positions, best first, and their scores


class Part(StrEnum):
    """What a dense vector stands for: a chunk (passage), or one sentence of the corpus."""

    CHUNKS = "chunks"
    SENTENCES = "sentences"


@dataclass(frozen=True)
class Catalogue:
    """What a store is written from besides the vectors: the rows citations need and BM25's weights."""

    chunks: Sequence[Chunk]
    sentences: Sequence[Sentence]
    bm25: BM25


class Store(ABC):
    kind: ClassVar[StoreKind]
    fuses: ClassVar[bool] = False  # can join lexical and dense rankings itself (`hybrid`)

    @abstractmethod
    def lexical(self, tokens: list[str], k: int) -> Ranking:
        """The k chunks with the highest BM25 score for the query tokens (a repeated token counts
        again), best first, ties by position; chunks scoring 0 are left out."""

    @abstractmethod
    def lexical_scores(self, tokens: list[str], chunks: list[int]) -> np.ndarray:
        """The BM25 score of each of `chunks` (0 where no query token occurs), float32."""

    @abstractmethod
    def dense(self, part: Part, vector: np.ndarray, k: int) -> Ranking:
        """The k positions of `part` whose vectors have the highest inner product (cosine) with `vector`."""

    @abstractmethod
    def vectors(self, part: Part, ids: list[int]) -> np.ndarray:
        """The stored vectors of `part` at positions `ids`, in that order, float32."""

    @abstractmethod
    def size(self, part: Part) -> int:
        """How many vectors `part` holds."""

    @property
    def exact(self) -> bool:
        """Whether stored vectors come back as they were stored, so a new build may copy them."""
        return True

    def hybrid(self, tokens: list[str], vector: np.ndarray, k: int, rrf_k: int) -> Ranking:
        """The lexical and the chunk-dense ranking fused inside the store by RRF, where it `fuses`."""
        raise NotImplementedError(f"the {self.kind} store does not fuse rankings itself")

    @classmethod
    @abstractmethod
    def write(cls, built: Store, catalogue: Catalogue, directory: Path, name: str, settings: Settings) -> tuple[Store, dict[str, Any]]:
        """The vectors of `built` (the store a build filled in memory) and `catalogue`, stored for the
        build `name` being written to `directory`: the store to search now, and the record its
        manifest keeps so that `open` finds it again."""

    @classmethod
    @abstractmethod
    def open(cls, build: Path, record: dict[str, Any], bm25: BM25, settings: Settings) -> Store:
        """The store of the build folder `build`, from its manifest's `record`."""

    @classmethod
    @abstractmethod
    def sweep(cls, root: Path, kept: set[str], settings: Settings) -> None:
        """Remove what the builds of the index folder `root` other than `kept` left outside their
        folders (which publishing has just pruned)."""

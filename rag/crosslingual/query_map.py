"""A learned map that moves an English question's embedding towards the one the model gives the same
question in Chinese: multilingual knowledge distillation (Reimers & Gurevych, 2020) with the
student reduced to one matrix applied after the encoder. The small model places an English question
far from the Chinese passages that answer it; its Chinese original lands near them. Passages keep
their vectors, so indexes do not change, and questions keep the C engine: the map is one
384 x 384 product, not a second network, so serving stays torch-free.

Fitted by ridge regression towards the identity on English/Chinese question pairs of the public
sets' train splits (train/query_map.py regenerates `query_map.npz` from the data), which keeps
the map near "change nothing" where pairs are few.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)
SHIPPED = Path(__file__).with_name("query_map.npz")


class QueryMapError(ValueError):
    """The map file is missing, malformed or for another model."""


@dataclass(frozen=True, eq=False)
class QueryMap:
    matrix: np.ndarray  # (dimension, dimension): an English question's vector times this, renormalised
    model: str  # the embedding model whose question vectors it was fitted on
    meta: dict[str, str] = field(default_factory=dict)  # how it was fitted: data checksum, pairs, strength

    @property
    def dimension(self) -> int:
        return int(self.matrix.shape[0])

    def apply(self, vector: np.ndarray) -> np.ndarray:
        mapped = vector @ self.matrix
        return (mapped / np.linalg.norm(mapped)).astype(np.float32)

    def save(self, path: Path) -> None:
        """Written whole, then moved into place: a reader never sees half a file."""
        partial = path.with_name(path.name + ".partial.npz")
        arrays = {"matrix": self.matrix.astype(np.float32), "model": np.array(self.model), **{f"meta_{k}": np.array(v) for k, v in self.meta.items()}}
        np.savez_compressed(partial, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as its allow_pickle flag
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> QueryMap:
        try:
            with np.load(path) as data:
                matrix = np.asarray(data["matrix"], dtype=np.float32)
                meta = {k.removeprefix("meta_"): str(data[k]) for k in data.files if k.startswith("meta_")}
                model = str(data["model"])
        except (OSError, KeyError, ValueError, EOFError) as exc:
            raise QueryMapError(f"cannot read the query map {path}: {exc}") from None
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or not np.isfinite(matrix).all():
            raise QueryMapError(f"the query map {path} is not a finite square matrix")
        return cls(matrix, model, meta)


@cache
def shipped_map(model: str) -> QueryMap | None:
    """The committed map if it was fitted for `model`, else None (a `--model` folder keeps its own
    question vectors: a map fitted in another model's space would only scramble them)."""
    query_map = QueryMap.load(SHIPPED)
    if query_map.model != model:
        logger.info("no query map for model %s (the shipped one is for %s)", model, query_map.model)
        return None
    return query_map


def fit_ridge(english: np.ndarray, chinese: np.ndarray, strength: float) -> np.ndarray:
    """The matrix W minimising |english W - chinese|^2 + strength |W - I|^2: least squares pulled
    towards the identity, solved in closed form (deterministic, a second on two cores)."""
    x, y = english.astype(np.float64), chinese.astype(np.float64)
    dimension = x.shape[1]
    delta = np.linalg.solve(x.T @ x + strength * np.eye(dimension), x.T @ (y - x))
    return (np.eye(dimension) + delta).astype(np.float32)

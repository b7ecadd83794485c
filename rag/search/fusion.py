"""Joining the BM25 and dense rankings into one, by strategy (settings `fusion`).

- RRF (reciprocal rank fusion): each list adds weight / (rrf_k + rank) to a chunk. Ranks, not
  scores, so BM25's unbounded scores and cosines need no common scale. rrf_k = 60 is the constant
  of Cormack et al. (2009): it damps the gap between the first few ranks, so that a chunk both
  lists place fairly high beats one that only a single list puts first.
- WEIGHTED: each list's scores are scaled to [0, 1] within the candidate pool, then summed with
  their weights; it keeps how far apart scores are, which RRF forgets.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.settings import Fusion
from rag.store.base import Ranking  # chunk ids, best first, and their scores


def fuse(strategy: Fusion, rankings: Sequence[tuple[float, Ranking]], rrf_k: int) -> list[tuple[int, float]]:
    """(chunk, fused score) pairs, best first (ties by chunk id), from weighted rankings."""
    if strategy == Fusion.RRF:
        fused = reciprocal_rank(rankings, rrf_k)
    elif strategy == Fusion.WEIGHTED:
        fused = weighted_scores(rankings)
    else:
        raise ValueError(f"unknown fusion {strategy!r}")
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def reciprocal_rank(rankings: Sequence[tuple[float, Ranking]], rrf_k: int) -> dict[int, float]:
    fused: dict[int, float] = {}
    for weight, (ids, _) in rankings:
        for rank, i in enumerate(ids):
            fused[int(i)] = fused.get(int(i), 0.0) + weight / (rrf_k + rank + 1)
    return fused


def weighted_scores(rankings: Sequence[tuple[float, Ranking]]) -> dict[int, float]:
    fused: dict[int, float] = {}
    for weight, (ids, scores) in rankings:
        if len(ids):
            lo, hi = float(np.min(scores)), float(np.max(scores))
            for i, v in zip(ids, scores):
                fused[int(i)] = fused.get(int(i), 0.0) + weight * ((float(v) - lo) / (hi - lo) if hi > lo else 1.0)
    return fused

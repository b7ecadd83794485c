"""Fusion strategies by hand: reciprocal rank, weighted scores, and an unknown strategy refused."""

import numpy as np
import pytest

from rag.search.fusion import fuse
from rag.settings import Fusion

DENSE = (np.array([3, 1, 2]), np.array([0.9, 0.8, 0.1]))
LEXICAL = (np.array([1, 4]), np.array([12.0, 3.0]))


def test_reciprocal_rank_fusion_adds_weight_over_k_plus_rank():
    fused = dict(fuse(Fusion.RRF, [(1.0, DENSE), (2.0, LEXICAL)], rrf_k=60))
    assert fused[1] == pytest.approx(1 / 62 + 2 / 61)
    assert fused[3] == pytest.approx(1 / 61) and fused[4] == pytest.approx(2 / 62)
    assert [chunk for chunk, _ in fuse(Fusion.RRF, [(1.0, DENSE), (2.0, LEXICAL)], 60)] == [1, 4, 3, 2]


def test_weighted_fusion_scales_each_list_to_the_unit_interval():
    fused = dict(fuse(Fusion.WEIGHTED, [(1.0, DENSE), (0.5, LEXICAL)], rrf_k=60))
    assert fused[3] == pytest.approx(1.0) and fused[2] == pytest.approx(0.0)
    assert fused[1] == pytest.approx((0.8 - 0.1) / 0.8 + 0.5) and fused[4] == pytest.approx(0.0)


def test_ties_break_by_chunk_id_and_empty_lists_add_nothing():
    assert fuse(Fusion.RRF, [(1.0, (np.array([5]), np.array([1.0]))), (1.0, (np.array([2]), np.array([1.0])))], 60) == [(2, 1 / 61), (5, 1 / 61)]
    assert fuse(Fusion.WEIGHTED, [(1.0, (np.array([], dtype=int), np.array([])))], 60) == []


def test_an_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="unknown fusion"):
        fuse("sum", [(1.0, DENSE)], 60)  # type: ignore[arg-type]

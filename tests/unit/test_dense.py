"""Dense index types: chosen by size, and each finds the true neighbours of stored vectors."""

import numpy as np
import pytest

from rag.index.faiss import FaissIndex, choose_kind
from rag.settings import Settings

SETTINGS = Settings()


def unit_vectors(n: int, d: int = 32, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_kind_follows_size():
    flat_max, hnsw_max = SETTINGS.flat_max, SETTINGS.hnsw_max
    assert choose_kind(flat_max, SETTINGS) == "flat" and choose_kind(flat_max + 1, SETTINGS) == "hnsw"
    assert choose_kind(hnsw_max + 1, SETTINGS) == "ivfpq" and choose_kind(10, SETTINGS, "hnsw") == "hnsw"
    with pytest.raises(ValueError, match="unknown dense index kind"):
        choose_kind(10, SETTINGS, "annoy")


@pytest.mark.parametrize(("kind", "atol"), [("flat", 1e-6), ("hnsw", 1e-3)])  # HNSW stores fp16
def test_stored_vector_is_its_own_nearest_neighbour_after_reload(kind, atol, tmp_path):
    vectors = unit_vectors(2000)
    FaissIndex.build([vectors], len(vectors), vectors.shape[1], SETTINGS, kind).save(tmp_path)
    index = FaissIndex.load(tmp_path, SETTINGS)
    hits = sum(int(index.search(vectors[i], 1)[0][0]) == i for i in range(0, 2000, 20))
    assert hits == 100
    np.testing.assert_allclose(index.vectors([5, 7]), vectors[[5, 7]], atol=atol)
    assert index.exact  # stored values added again are stored unchanged: incremental builds copy them
    stored = index.vectors(list(range(100)))
    again = FaissIndex.build([stored[:60], stored[60:]], 100, stored.shape[1], SETTINGS, kind)
    np.testing.assert_array_equal(again.vectors(list(range(100))), stored)


def test_build_checks_the_vector_count():
    vectors = unit_vectors(10)
    with pytest.raises(ValueError, match="expected 11 vectors"):
        FaissIndex.build([vectors], 11, vectors.shape[1], SETTINGS, "flat")


def test_ivfpq_approximates_flat_search(tmp_path):
    vectors = unit_vectors(20_000, d=96)
    centres = unit_vectors(50, d=96, seed=1)
    vectors = centres[np.arange(20_000) % 50] + 0.3 * vectors
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    FaissIndex.build([vectors], len(vectors), vectors.shape[1], SETTINGS, "ivfpq").save(tmp_path)
    approx, exact = FaissIndex.load(tmp_path, SETTINGS), FaissIndex.build([vectors], len(vectors), vectors.shape[1], SETTINGS, "flat")
    queries = vectors[:50]
    recall = np.mean([len(set(approx.search(q, 10)[0]) & set(exact.search(q, 10)[0])) / 10 for q in queries])
    assert recall >= 0.3  # chance would be 0.0005
    assert approx.vectors([3]).shape == (1, 96)

"""The learned English-question map: the shipped file loads, is for the bundled model and was fitted
on the data in the repo; fitting and saving behave (no model needed)."""

from pathlib import Path

import numpy as np
import pytest

from rag.checksums import data_checksum
from rag.crosslingual.query_map import SHIPPED, QueryMap, QueryMapError, fit_ridge, shipped_map
from rag.settings import DEFAULT_MODEL

ROOT = Path(__file__).parents[2]
TRAINING_DATA = [ROOT / "eval/public/translations.en.tsv", *sorted((ROOT / "eval/public/source").glob("*.json"))]


def test_shipped_map_is_for_the_bundled_model_and_fitted_on_the_repos_data():
    query_map = QueryMap.load(SHIPPED)
    assert query_map.model == DEFAULT_MODEL and query_map.dimension == 384
    assert query_map.meta["data"] == data_checksum(TRAINING_DATA)  # retrain (train/query_map.py) after changing the data
    assert int(query_map.meta["pairs"]) > 2000
    assert SHIPPED.stat().st_size < 2_000_000
    # fitted towards the identity: it moves vectors, it does not replace them
    assert 0.3 < float(np.mean(np.diag(query_map.matrix))) < 1.5


def test_no_map_for_another_model():
    assert shipped_map(DEFAULT_MODEL) is not None
    assert shipped_map("/models/some-other-encoder") is None


def test_fit_recovers_a_linear_relation_and_stays_near_identity_without_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2000, 16))
    rotation = np.linalg.qr(rng.normal(size=(16, 16)))[0]
    np.testing.assert_allclose(fit_ridge(x, x @ rotation, strength=1e-3), rotation, atol=1e-3)
    np.testing.assert_allclose(fit_ridge(x[:3], x[:3] @ rotation, strength=1e6), np.eye(16), atol=1e-3)


def test_apply_returns_a_unit_vector_and_save_load_round_trips(tmp_path):
    matrix = np.diag(np.arange(1, 5, dtype=np.float32))
    query_map = QueryMap(matrix, "m", {"pairs": "3"})
    mapped = query_map.apply(np.ones(4, dtype=np.float32) / 2)
    assert np.isclose(np.linalg.norm(mapped), 1.0) and mapped[3] > mapped[0]
    query_map.save(tmp_path / "map.npz")
    loaded = QueryMap.load(tmp_path / "map.npz")
    assert loaded.model == "m" and loaded.meta == {"pairs": "3"} and np.array_equal(loaded.matrix, matrix)
    assert [p.name for p in tmp_path.iterdir()] == ["map.npz"]  # no partial file left behind


@pytest.mark.parametrize("content", [b"", b"not a zip", None])
def test_a_broken_map_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "map.npz"
    if content is None:
        np.savez(path, matrix=np.full((3, 2), 1.0), model=np.array("m"))
    else:
        path.write_bytes(content)
    with pytest.raises(QueryMapError):
        QueryMap.load(path)

"""`rag index --ray`: the build on a local Ray equals the single-process build (documents, search
forms, metadata, chunks, sentences, BM25, vectors), re-processes only changed documents, survives a
worker and an embedder that die (and, slow, a driver that dies: the re-run finds in the cache what
was embedded), and reports a cluster it cannot use in one line."""

import logging
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest
import ray

from rag.embedding.model import Embedder, ModelError
from rag.index.distributed import ClusterError, EmbedSlices, RayBuild, prepare_slices
from rag.index.index import Index
from rag.index.lifecycle import load_index, open_index, update_index
from rag.settings import Settings, load_settings
from rag.store.base import Part

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")  # Ray Data copying its own context
CORPUS = Path(__file__).parents[2] / "corpus"
NEW_DOC = "成都今年签约了27个新项目，总投资120亿元。项目涵盖电子信息和生物医药。"


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray of two CPUs for the module (starting one takes 5-10 s)."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def embedder():
    return Embedder()


@pytest.fixture(scope="module")
def single(tmp_path_factory, embedder) -> Index:
    """The seed corpus built the single-process way, as published."""
    index = tmp_path_factory.mktemp("single") / "index"
    open_index(CORPUS, index, load_settings(), embedder, rebuild=True)
    return load_index(index, load_settings())


def ray_built(corpus: Path, index: Path, embedder: Embedder, build: RayBuild, rebuild: bool = True, settings: Settings | None = None) -> Index:
    update_index(corpus, index, settings or load_settings(), embedder, rebuild=rebuild, build=build)
    return load_index(index, settings or load_settings())


def assert_same_index(a: Index, b: Index) -> None:
    assert dict(a.documents) == dict(b.documents)
    for doc_id in a.documents:
        assert a.form(doc_id).text == b.form(doc_id).text, doc_id
        assert np.array_equal(a.form(doc_id).offsets, b.form(doc_id).offsets), doc_id
    assert a.metadata == b.metadata
    assert list(a.chunks) == list(b.chunks) and list(a.sentences) == list(b.sentences)
    assert a.bm25.vocab == b.bm25.vocab and a.bm25.weights.shape == b.bm25.weights.shape
    assert (a.bm25.weights != b.bm25.weights).nnz == 0
    for part, count in ((Part.CHUNKS, len(a.chunks)), (Part.SENTENCES, len(a.sentences))):
        ids = list(range(count))
        assert np.allclose(a.store.vectors(part, ids), b.store.vectors(part, ids), atol=1e-5), part


def test_a_ray_build_equals_the_single_process_build(local_ray, single, embedder, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="rag")
    built = ray_built(CORPUS, tmp_path / "index", embedder, RayBuild())
    assert_same_index(single, built)
    assert "prepare and embed 5 documents on Ray" in caplog.text  # the work was Ray's, not the driver's
    assert "normalise 0 documents (5 prepared)" in caplog.text


def test_pooled_chunk_vectors_equal_too(local_ray, embedder, tmp_path):
    pooled = load_settings(chunk_vectors="pooled")
    open_index(CORPUS, tmp_path / "single", pooled, embedder, rebuild=True)
    assert_same_index(load_index(tmp_path / "single", pooled), ray_built(CORPUS, tmp_path / "ray", embedder, RayBuild(), settings=pooled))


def test_only_changed_documents_go_through_ray(local_ray, embedder, tmp_path, caplog):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    open_index(corpus, tmp_path / "index", load_settings(), embedder)
    edited = sorted(corpus.iterdir())[1]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n记者另悉，当地还新增了3个物流项目。", encoding="utf-8")
    (corpus / "zz_new.txt").write_text(f"{NEW_DOC}编号{uuid.uuid4().hex}的项目今天开工。", encoding="utf-8")  # text no cache holds: the embedders embed it
    caplog.set_level(logging.INFO, logger="rag")
    updated = ray_built(corpus, tmp_path / "index", embedder, RayBuild(), rebuild=False)
    assert "prepare and embed 2 documents on Ray" in caplog.text and "(4 unchanged, 2 prepared)" in caplog.text
    full = tmp_path / "full"
    open_index(corpus, full, load_settings(), embedder, rebuild=True)
    assert_same_index(load_index(full, load_settings()), updated)
    new = [i for i, s in enumerate(updated.sentences) if s.doc_id == "zz_new.txt"]
    fresh = Embedder(cache_root=tmp_path / "cache").embed_passages([updated.sentence_text(i) for i in new])  # embedded here, now
    assert np.allclose(updated.store.vectors(Part.SENTENCES, new), fresh, atol=1e-5)


def preparing_dies_once(marker: Path):
    """A preparing task that kills its worker the first time (a node lost mid-task)."""

    def prepare(settings: Settings, batch: dict) -> dict:
        if not marker.exists():
            marker.touch()
            os._exit(1)
        return prepare_slices(settings, batch)

    return prepare


def embedder_dies_once(marker: Path) -> type[EmbedSlices]:
    """An embedder actor whose process dies on its first batch."""

    class DiesOnce(EmbedSlices):
        def __call__(self, batch: dict) -> dict:
            if not marker.exists():
                marker.touch()
                os._exit(1)
            return EmbedSlices.__call__(self, batch)

    return DiesOnce


def test_a_build_survives_a_dead_worker_and_a_dead_embedder(local_ray, single, embedder, tmp_path):
    task, actor = tmp_path / "task-died", tmp_path / "embedder-died"
    build = RayBuild(prepare=preparing_dies_once(task), embed=embedder_dies_once(actor))
    built = ray_built(CORPUS, tmp_path / "index", embedder, build)
    assert task.exists() and actor.exists()  # each died once, was retried (restarted) and went on
    assert_same_index(single, built)


def test_an_embedder_that_cannot_start_fails_the_build_in_one_line(local_ray, embedder, tmp_path, monkeypatch):
    class WrongModel(EmbedSlices):
        def __init__(self, settings: Settings, model_id: str) -> None:
            raise ModelError("this node's model is not the driver's")

    monkeypatch.setattr(ray.data.DataContext.get_current(), "max_consecutive_actor_init_deaths", 1)
    with pytest.raises(ClusterError, match=r"^the build on Ray failed: .*this node's model is not the driver's$"):
        ray_built(CORPUS, tmp_path / "index", embedder, RayBuild(embed=WrongModel))
    assert not (tmp_path / "index" / "CURRENT").exists()  # nothing published


def rag(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag", "index", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("address", "error"),
    [
        ("127.0.0.1:9", "cannot reach Ray at 127.0.0.1:9: Connection refused"),
        ("ray://127.0.0.1:10001", "Ray Data does not run through Ray Client (ray://127.0.0.1:10001): run `rag index --ray auto` on a node of the cluster, e.g. as a Ray job"),
    ],
)
def test_a_cluster_it_cannot_use_is_one_line_and_a_nonzero_exit(address, error, tmp_path):
    done = rag("--ray", address, "--corpus", str(CORPUS), "--index", str(tmp_path / "index"), "-q")
    assert (done.returncode, done.stderr) == (2, f"rag: error: {error}\n")


def test_cli_builds_a_small_corpus_on_a_local_ray(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(sorted(CORPUS.iterdir())[3], corpus)
    (corpus / "zz_new.txt").write_text(NEW_DOC, encoding="utf-8")
    done = rag("--ray", "--num-cpus", "2", "--corpus", str(corpus), "--index", str(tmp_path / "index"), "-q")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("index ready: 2 documents")
    built = load_index(tmp_path / "index", load_settings())
    assert "27个新项目" in built.documents["zz_new.txt"] and built.manifest["reused_documents"] == 0


def cached_vectors(cache: Path) -> int:
    if not (cache / "embeddings.sqlite").exists():
        return 0
    with sqlite3.connect(cache / "embeddings.sqlite", timeout=30) as db:
        return db.execute("SELECT count(*) FROM vec").fetchone()[0]


@pytest.mark.slow  # embeds the seed corpus from scratch on Ray: ~1 min
def test_a_rerun_after_the_driver_dies_embeds_only_what_no_cache_holds(single, tmp_path):
    cache = tmp_path / "cache"
    command = [sys.executable, "-m", "rag", "index", "--ray", "--num-cpus", "2", "--corpus", str(CORPUS), "--index", str(tmp_path / "index")]
    environment = {**os.environ, "RAG_CACHE_DIR": str(cache)}
    driver = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    while cached_vectors(cache) < 64:
        assert driver.poll() is None, "the build ended before it could be killed"
        time.sleep(0.2)
    os.killpg(driver.pid, signal.SIGKILL)  # the driver and the local Ray it started
    driver.wait()
    kept = cached_vectors(cache)
    done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    found = re.search(r"prepare and embed 5 documents on Ray in [\d.]+ s: 585 passages, (\d+) from the embedding cache", done.stderr)
    assert found and int(found.group(1)) >= kept > 0, (kept, done.stderr)
    assert_same_index(single, load_index(tmp_path / "index", load_settings()))  # embedded on Ray from scratch: the single-process vectors

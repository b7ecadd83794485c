"""The Milvus store answers as the local store does, with the same update guarantees: over Milvus Lite
in this process (a `.db` path, RAG_MILVUS_URI empty) and over a Milvus Lite server reached by its
URI (`milvus-lite server`, the code path of Milvus Standalone and Distributed)."""

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from rag.api.app import create_app
from rag.cli import main
from rag.embedding.model import Embedder
from rag.engine import Engine
from rag.index.format import read_index
from rag.index.lifecycle import open_index, update_index
from rag.index.publish import IndexDir, IndexStoreError
from rag.search.retriever import Method
from rag.settings import load_settings
from rag.store.base import Catalogue, Part
from rag.store.milvus import DEFAULT_DB, MilvusStore, connect, namespace

ROOT = Path(__file__).parents[2]
CORPUS = ROOT / "corpus"
QUESTIONS = ["長沙簽約了多少個項目？", "港洽周什么时候开幕", "How many projects were signed in Changsha?", "成都 新项目 总投资", "湖南为香港做了什么？", "Mini-LED产能"]
DEV = [json.loads(line)["question"] for line in (ROOT / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines()]
NEW_DOC = "成都今年签约了27个新项目，总投资120亿元。项目涵盖电子信息和生物医药。"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def milvus_lite_server(data: Path) -> Iterator[str]:
    """`milvus-lite server` over `data` on a free loopback port, ready for clients; its URI. A port
    taken between choosing and binding it makes the server exit: another port is tried."""
    for _attempt in range(3):
        port = free_port()
        command = [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(data), "--host", "127.0.0.1", "--port", str(port)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        uri = f"http://127.0.0.1:{port}"
        if _ready(process, uri):
            break
        _stop(process)
    else:
        pytest.fail("milvus-lite server did not start")
    try:
        yield uri
    finally:
        _stop(process)


def _ready(process: subprocess.Popen, uri: str, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        try:
            connect(uri).list_collections()
            return True
        except IndexStoreError:
            time.sleep(0.1)
    return False


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def release_embedded(index_dir: Path) -> None:
    """Stop this process's Milvus Lite server of an index folder's milvus.db (it holds the folder's lock)."""
    from milvus_lite import server_manager_instance

    server_manager_instance.release_server(str(index_dir / DEFAULT_DB))


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory) -> Iterator[str]:
    with milvus_lite_server(tmp_path_factory.mktemp("milvus") / "data") as uri:
        yield uri


@pytest.fixture(scope="module")
def embedded(tmp_path_factory) -> Iterator[Engine]:
    index = tmp_path_factory.mktemp("embedded") / "index"
    yield Engine.open(load_settings(corpus=CORPUS, index=index, store="milvus"))
    release_embedded(index)


@pytest.fixture(scope="module")
def served(tmp_path_factory, milvus_server) -> Engine:
    return Engine.open(load_settings(corpus=CORPUS, index=tmp_path_factory.mktemp("served") / "index", store="milvus", milvus_uri=milvus_server))


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.mark.parametrize("store", ["embedded", "served"])
def test_rankings_and_scores_are_the_local_stores(store, engine, request):
    milvus: Engine = request.getfixturevalue(store)
    assert milvus.index.manifest["store"]["kind"] == "milvus" and not list(milvus.index.location.glob("*.faiss"))
    local, remote = engine.index.store, milvus.index.store
    for part in Part:
        ids = list(range(local.size(part)))
        assert remote.size(part) == len(ids)
        assert np.array_equal(remote.vectors(part, ids[::-1]), local.vectors(part, ids[::-1]))  # float32 as stored, in the order asked
    for text in QUESTIONS:
        question = engine.analyse(text)
        for tokens, vector in question.searches:
            expect = local.lexical(tokens, 50)
            assert_same_ranking(remote.lexical(tokens, 50), expect, 1e-5)
            chosen = [*expect[0][:7].tolist(), 0, 1]
            np.testing.assert_allclose(remote.lexical_scores(tokens, chosen), local.lexical_scores(tokens, chosen), rtol=1e-5)
            for part in Part:
                assert_same_ranking(remote.dense(part, vector, 50), local.dense(part, vector, 50), 1e-5)
        for method in Method:
            expect_hits, got_hits = engine.retriever.search(question, 10, method), milvus.retriever.search(question, 10, method)
            assert [h.chunk for h in got_hits] == [h.chunk for h in expect_hits], (text, method)
            for name in ("score", "dense", "lexical"):
                np.testing.assert_allclose([getattr(h, name) for h in got_hits], [getattr(h, name) for h in expect_hits], rtol=1e-5, atol=1e-6)


def assert_same_ranking(got, expect, atol: float) -> None:
    """The same scores, best first, at the same positions, but for the order within a tie (equal
    vectors: FAISS leaves it undefined) and which members of a tie at the cut are in."""
    np.testing.assert_allclose(got[1], expect[1], atol=atol)
    cut = float(expect[1][-1]) if len(expect[1]) else 0.0
    scored = dict(zip(expect[0].tolist(), expect[1].tolist()))
    for i, score in zip(got[0].tolist(), got[1].tolist()):
        assert abs(scored.get(i, cut) - score) <= atol, (i, score)


def test_sparse_vectors_score_as_bm25_inside_milvus(engine, embedded):
    store, chunks = embedded.index.store, list(range(len(engine.index.chunks)))
    for text in QUESTIONS:
        tokens = engine.analyse(text).tokens
        np.testing.assert_allclose(store.lexical_scores(tokens, chunks), engine.index.bm25.scores(tokens), rtol=1e-5, atol=1e-6)


def same_answer(a, b) -> bool:
    """The same answer, span, source and message, citing the same passages in the same order with
    the same scores (to 1e-5: BM25's float32 sums add up in another order in Milvus)."""
    cited = [[(c.doc_id, c.chunk_id, c.start, c.end) for c in r.citations or r.closest_passages] for r in (a, b)]
    scores = [[c.score for c in r.citations or r.closest_passages] for r in (a, b)]
    fields = ("answer", "answer_span", "answer_source", "abstained", "message")
    return all(getattr(a, f) == getattr(b, f) for f in fields) and cited[0] == cited[1] and np.allclose(scores[0], scores[1], rtol=0, atol=1e-5)


def test_answers_to_dev_questions_are_the_local_stores(engine, embedded):
    for question in DEV[::5]:  # 21 of the 105
        assert same_answer(embedded.ask(question), engine.ask(question)), question


@pytest.mark.slow
@pytest.mark.parametrize("store", ["embedded", "served"])
def test_answers_to_every_dev_question_are_the_local_stores(store, engine, request):
    milvus: Engine = request.getfixturevalue(store)
    different = [q for q in DEV if not same_answer(milvus.ask(q), engine.ask(q))]
    assert not different


class Counting(Embedder):
    """The bundled embedder, counting the passages it is asked to embed."""

    def __init__(self):
        super().__init__()
        self.passages = 0

    def embed_passages(self, texts, *args, **kwargs):
        self.passages += len(texts)
        return super().embed_passages(texts, *args, **kwargs)


def collections(settings, index: Path) -> set[str]:
    from rag.store.milvus import resolve_uri

    return {n for n in connect(resolve_uri(settings, index)).list_collections() if n.startswith(namespace(index))}


def named(index) -> set[str]:
    return set(index.manifest["store"]["collections"].values())


def check_add_and_remove(tmp_path: Path, milvus_uri: str = "") -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    settings, embedder = load_settings(store="milvus", milvus_uri=milvus_uri), Counting()
    first = open_index(corpus, index, settings, embedder)
    before = embedder.passages

    added = update_index(corpus, index, settings, embedder, change=lambda: (corpus / "zz_new.txt").write_text(NEW_DOC, encoding="utf-8"))
    new = [i for i, c in enumerate(added.chunks) if c.doc_id == "zz_new.txt"]
    assert added.manifest["reused_documents"] == len(first.documents)
    assert embedder.passages - before == len(new) + len(added.doc_sentences["zz_new.txt"])  # the new document's passages and sentences embedded ...
    before = embedder.passages
    assert "27个" in (Engine(added, embedder, settings).ask("成都签约了多少个新项目？").answer or "")
    kept = [i for i in range(len(added.chunks)) if i not in new]
    old = [first.by_id[added.chunks[i].chunk_id] for i in kept]
    assert np.array_equal(added.store.vectors(Part.CHUNKS, kept), first.store.vectors(Part.CHUNKS, old))  # ... the others' copied, bitwise
    previous = read_index(first.location, first.manifest, settings)  # the previous build stays readable
    assert previous.store.size(Part.CHUNKS) == len(first.chunks) and len(previous.store.lexical(["长沙"], 5)[0]) == 5
    assert collections(settings, index) == named(first) | named(added)

    # a writer killed after writing its collections, before publishing: its collections have no build
    leftover = MilvusStore.write(first.store, Catalogue(first.chunks, first.sentences, first.bm25), index / ".tmp-killed", "build-0-0", settings)[1]
    removed = update_index(corpus, index, settings, embedder, change=lambda: (corpus / "zz_new.txt").unlink())
    assert embedder.passages == before  # nothing re-embedded: every remaining vector was copied
    assert not first.location.exists() and collections(settings, index) == named(added) | named(removed)  # pruned build and leftover dropped
    assert not set(leftover["collections"].values()) & collections(settings, index)
    engine = Engine(removed, embedder, settings)
    for query in ("成都签约了多少个新项目？", "成都 新项目 总投资 120亿元", "电子信息和生物医药"):
        assert all(c.doc_id != "zz_new.txt" for c in engine.search(query, k=20).results), query
    assert removed.store.size(Part.CHUNKS) == len(removed.chunks) == len(first.chunks)
    assert IndexDir(index).current() == removed.location


def test_add_and_remove_keep_the_local_guarantees_embedded(tmp_path):
    try:
        check_add_and_remove(tmp_path)
    finally:
        release_embedded(tmp_path / "index")


def test_add_and_remove_keep_the_local_guarantees_on_a_server(tmp_path, milvus_server):
    check_add_and_remove(tmp_path, milvus_server)


def test_unreachable_milvus_is_an_error_naming_the_uri_and_the_fix(tmp_path, monkeypatch, capsys):
    uri = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("RAG_STORE", "milvus")
    monkeypatch.setenv("RAG_MILVUS_URI", uri)
    assert main(["search", "港洽周", "--corpus", str(CORPUS), "--index", str(tmp_path / "index")]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach Milvus at {uri}" in err and "RAG_MILVUS_URI" in err and "Traceback" not in err


def test_a_milvus_lite_folder_held_by_another_process_is_an_error_saying_so(tmp_path):
    data = tmp_path / "held.db"
    with milvus_lite_server(data), pytest.raises(IndexStoreError, match=r"open in another process.*milvus-lite server --data-dir"):
        connect(str(data))


def test_readiness_names_the_store(engine, embedded):
    for serving, kind in ((engine, "local"), (embedded, "milvus")):
        with TestClient(create_app(load=lambda serving=serving: serving)) as client:
            for _ in range(200):
                if client.get("/readyz").status_code == 200:
                    break
                time.sleep(0.05)
            assert client.get("/readyz").json()["store"] == kind


def test_milvus_own_bm25_and_fusion_are_there_to_measure(tmp_path, engine):
    native = Engine.open(load_settings(corpus=CORPUS, index=tmp_path / "index", store="milvus", milvus_lexical="native"))
    try:
        top = native.index.store.lexical(engine.analyse("长沙签约项目").tokens, 5)[0]
        assert len(top) == 5 and "长沙" in native.index.chunks[int(top[0])].search_text
        fused = Engine(native.index, native.embedder, native.settings.with_overrides(fusion="rrf", milvus_hybrid=True))
        assert fused.retriever.store_fuses and len(fused.search("港洽周什么时候开幕", k=5).results) == 5
    finally:
        release_embedded(tmp_path / "index")

"""The index as a store: incremental updates equal full rebuilds, builds are atomic and checked,
one writer at a time, and a killed build leaves the previous index loadable."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from rag.cli import main
from rag.embedding.model import Embedder
from rag.engine import Engine
from rag.index import publish
from rag.index.lifecycle import load_index, open_index, reusable_index, stale_reason, update_index
from rag.index.publish import IndexDir, IndexStoreError
from rag.ingest.chunking import link_sentences
from rag.settings import load_settings
from rag.store.base import Part

CORPUS = Path(__file__).parents[2] / "corpus"
QUERIES = ["長沙簽約了多少個項目？", "港洽周什么时候开幕", "How many projects were signed in Changsha?", "成都 新项目 总投资"]
NEW_DOC = "成都今年签约了27个新项目，总投资120亿元。项目涵盖电子信息和生物医药。"


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    return folder


@pytest.fixture(scope="module")
def embedder():
    return Embedder()


def edit_corpus(folder: Path) -> None:
    """One document edited, one removed, one added."""
    names = sorted(p.name for p in folder.iterdir())
    edited = folder / names[1]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n记者另悉，当地还新增了3个物流项目。", encoding="utf-8")
    (folder / names[-1]).unlink()
    (folder / "zz_new.txt").write_text(NEW_DOC, encoding="utf-8")


def test_incremental_update_equals_a_full_rebuild(corpus, tmp_path, embedder):
    settings = load_settings()
    before = open_index(corpus, tmp_path / "incremental", settings, embedder)
    edit_corpus(corpus)
    incremental = update_index(corpus, tmp_path / "incremental", settings, embedder)
    full = open_index(corpus, tmp_path / "full", settings, embedder, rebuild=True)

    assert incremental.manifest["reused_documents"] == len(before.documents) - 2  # edited and removed
    assert full.manifest["reused_documents"] == 0
    assert incremental.documents == full.documents
    assert incremental.chunks == full.chunks and incremental.sentences == full.sentences
    ids = list(range(len(full.chunks)))
    assert np.array_equal(incremental.store.vectors(Part.CHUNKS, ids), full.store.vectors(Part.CHUNKS, ids))  # bitwise: a vector depends on its text alone
    engines = [Engine(index, embedder, settings) for index in (incremental, full)]
    for query in QUERIES:
        a, b = (engine.ask(query) for engine in engines)
        assert a.citations == b.citations and a.answer == b.answer, query
    assert incremental.manifest["corpus"] == full.manifest["corpus"]
    loaded = load_index(tmp_path / "incremental", load_settings())  # the stored chunk <-> sentence links, as computed
    for stored, computed in zip((loaded.chunk_sentences, loaded.sentence_chunks), link_sentences(full.chunks, full.sentences)):
        assert [stored[i] for i in range(len(stored))] == [computed[i] for i in range(len(computed))]


def test_cli_add_and_remove_update_corpus_and_index(corpus, tmp_path, capsys):
    index = tmp_path / "index"
    common = ["--corpus", str(corpus), "--index", str(index)]
    new = tmp_path / "chengdu.txt"
    new.write_bytes(NEW_DOC.encode("gb18030"))  # added documents may be in a legacy encoding too
    assert main(["add", str(new), *common]) == 0
    assert (corpus / "chengdu.txt").read_bytes() == new.read_bytes()
    engine = Engine.open(load_settings(corpus=corpus, index=index))
    assert "27个" in engine.ask("成都签约了多少个新项目？").answer

    binary = tmp_path / "image.txt"
    binary.write_bytes(b"\x89PNG\x00\x00" * 50)
    assert main(["add", str(new), str(binary), *common]) == 2  # all or nothing
    assert "image.txt: binary" in capsys.readouterr().err and not (corpus / "image.txt").exists()

    assert main(["remove", "chengdu.txt", *common]) == 0
    assert not (corpus / "chengdu.txt").exists()
    assert "chengdu.txt" not in load_index(index, load_settings()).documents
    assert main(["remove", "nope.txt", *common]) == 2
    assert "no such document" in capsys.readouterr().err


def test_a_damaged_file_is_reported_with_the_fix(corpus, tmp_path, capsys):
    index = tmp_path / "index"
    common = ["--corpus", str(corpus), "--index", str(index)]
    assert main(["index", *common]) == 0
    vectors = IndexDir(index).current() / "dense.faiss"
    data = bytearray(vectors.read_bytes())
    data[len(data) // 2] ^= 0xFF
    vectors.write_bytes(bytes(data))
    with pytest.raises(IndexStoreError, match=r"dense.faiss .*damaged.*rag index --rebuild"):
        load_index(index, load_settings())
    assert main(["search", "港洽周", *common]) == 2
    assert "rag index --rebuild" in capsys.readouterr().err
    assert main(["index", "--rebuild", *common]) == 0
    assert load_index(index, load_settings()).documents


def test_server_engine_refuses_an_index_built_with_other_settings(corpus, tmp_path, embedder):
    index = tmp_path / "index"
    engine = Engine.open(load_settings(corpus=corpus, index=index))
    other = load_settings(chunk_size=120)
    open_index(corpus, index, other, embedder, rebuild=True)
    with pytest.raises(IndexStoreError, match="rag index --rebuild"):
        engine.reloaded()


def test_one_writer_at_a_time(corpus, tmp_path, embedder):
    index = tmp_path / "index"
    open_index(corpus, index, load_settings(), embedder)
    (corpus / "zz_new.txt").write_text(NEW_DOC, encoding="utf-8")
    done = threading.Event()
    with IndexDir(index).lock():
        writer = threading.Thread(target=lambda: (update_index(corpus, index, load_settings(), embedder), done.set()))
        writer.start()
        assert not done.wait(1.0)  # blocked while we hold the lock
        assert "zz_new.txt" not in load_index(index, load_settings()).documents
    writer.join(60)
    assert done.is_set() and "zz_new.txt" in load_index(index, load_settings()).documents


def test_killing_a_build_mid_write_leaves_the_previous_index(corpus, tmp_path, embedder):
    index = tmp_path / "index"
    before = open_index(corpus, index, load_settings(), embedder)
    command = [sys.executable, "-m", "rag", "index", "--rebuild", "--corpus", str(corpus), "--index", str(index)]
    for _attempt in range(5):  # the write takes a few hundred ms: catch the process inside it
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while process.poll() is None and not any(index.glob(".tmp-*/*")):
            time.sleep(0.001)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        if any(index.glob(".tmp-*")):
            break
    else:
        pytest.skip("every build finished before it could be killed (timing-dependent: the write was too quick to catch 5 times); rerun this test")
    after = load_index(index, load_settings())
    assert after.location == before.location and after.documents == before.documents
    # the kernel released the dead writer's lock, and the next writer clears its leftovers
    (corpus / "zz_new.txt").write_text(NEW_DOC, encoding="utf-8")
    updated = update_index(corpus, index, load_settings(), embedder)
    assert "zz_new.txt" in updated.documents and not any(index.glob(".tmp-*"))


def test_new_normaliser_or_chunker_code_makes_the_index_stale(corpus, tmp_path, embedder, monkeypatch):
    settings, index = load_settings(), tmp_path / "index"
    open_index(corpus, index, settings, embedder)
    assert stale_reason(index, corpus, settings, embedder.model_id) is None
    monkeypatch.setattr("rag.index.format.pipeline_digest", lambda: "another-version")
    assert stale_reason(index, corpus, settings, embedder.model_id) == "normaliser or chunker changed"
    assert reusable_index(index, settings, embedder.model_id) is None  # nothing reused across versions


def test_build_index_creates_a_missing_index_folder(tmp_path, embedder):
    from rag.index.build import build_index
    from rag.ingest.corpus import Corpus, Document

    corpus = Corpus([Document("a.txt", "长沙签约了16个项目。", "digest")], {})
    build_index(corpus, tmp_path / "deep" / "index", load_settings(), embedder)
    assert load_index(tmp_path / "deep" / "index", load_settings()).documents == {"a.txt": "长沙签约了16个项目。"}


def test_a_file_left_as_sealed_is_not_hashed_again(corpus, tmp_path, monkeypatch):
    """Loading trusts files whose size, mtime and inode are as the writer sealed them; a file
    written since is hashed, and a damaged one reported."""
    index = tmp_path / "index"
    assert main(["index", "--corpus", str(corpus), "--index", str(index)]) == 0
    hashed, real_record = [], publish.file_record
    monkeypatch.setattr(publish, "file_record", lambda path: hashed.append(path.name) or real_record(path))
    load_index(index, load_settings())
    assert hashed == []
    forms = IndexDir(index).current() / "forms_text.npy"
    data = bytearray(forms.read_bytes())
    data[-1] ^= 0xFF
    forms.write_bytes(bytes(data))
    with pytest.raises(IndexStoreError, match=r"forms_text\.npy .*damaged"):
        load_index(index, load_settings())
    assert hashed == ["forms_text.npy"]


def test_pooled_passage_vectors_are_the_mean_of_their_sentences(corpus, tmp_path, embedder):
    """chunk_vectors=pooled embeds sentences only; each passage's vector is the normalised mean of
    the vectors of the sentences it holds."""
    settings = load_settings(chunk_vectors="pooled")
    index = open_index(corpus, tmp_path / "index", settings, embedder)
    checked = 0
    for chunk in range(len(index.chunks)):
        members = index.chunk_sentences[chunk]
        if members:
            mean = index.store.vectors(Part.SENTENCES, members).mean(axis=0)
            assert np.allclose(index.store.vectors(Part.CHUNKS, [chunk])[0], mean / np.linalg.norm(mean), atol=1e-6)
            checked += 1
    assert checked >= len(index.chunks) - 2
    assert load_index(tmp_path / "index", settings).manifest["settings"]["chunk_vectors"] == "pooled"

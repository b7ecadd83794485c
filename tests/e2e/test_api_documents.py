"""`/v1/documents` and the API key: writes need the key, reads stay open unless protected, and the
server keeps answering from the old index while a new one is built."""

import shutil
import threading
import time
from pathlib import Path

import pytest
from conftest import wait_ready
from fastapi.testclient import TestClient

from rag.api.app import create_app
from rag.embedding.model import Embedder
from rag.index.lifecycle import update_index
from rag.index.publish import IndexDir
from rag.settings import load_settings

CORPUS = Path(__file__).parents[2] / "corpus"
KEY = "s3cret-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
NEW = {"id": "chengdu.txt", "text": "成都今年签约了27个新项目，总投资120亿元。项目涵盖电子信息和生物医药。"}


@pytest.fixture
def folders(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in sorted(CORPUS.iterdir())[:2]:
        shutil.copy(path, corpus)
    return corpus, tmp_path / "index"


def client_for(folders, monkeypatch, **env):
    for name in ("RAG_API_KEY", "RAG_PROTECT_READS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return TestClient(create_app(load_settings(corpus=folders[0], index=folders[1])))


def test_documents_are_listed_added_replaced_and_deleted(folders, monkeypatch):
    with client_for(folders, monkeypatch, RAG_API_KEY=KEY) as client:
        wait_ready(client)
        listed = client.get("/v1/documents").json()["documents"]
        assert [d["id"] for d in listed] == sorted(p.name for p in folders[0].iterdir())

        created = client.post("/v1/documents", json=NEW, headers=AUTH)
        assert created.status_code == 201 and created.json()["chunks"] >= 1
        assert "27个" in client.post("/v1/ask", json={"question": "成都签约了多少个新项目？"}).json()["answer"]
        assert (folders[0] / "chengdu.txt").read_text(encoding="utf-8") == NEW["text"]

        replaced = client.post("/v1/documents", json={**NEW, "text": "成都今年签约了31个新项目。"}, headers={"X-API-Key": KEY})
        assert replaced.status_code == 200 and replaced.json()["replaced"]
        assert "31个" in client.post("/v1/ask", json={"question": "成都签约了多少个新项目？"}).json()["answer"]

        assert client.delete("/v1/documents/chengdu.txt", headers=AUTH).json()["deleted"]
        assert "chengdu.txt" not in [d["id"] for d in client.get("/v1/documents").json()["documents"]]
        assert not (folders[0] / "chengdu.txt").exists()


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status"),
    [
        ("post", "/v1/documents", NEW, {}, 401),
        ("post", "/v1/documents", NEW, {"Authorization": "Bearer wrong"}, 401),
        ("delete", "/v1/documents/chengdu.txt", None, {"X-API-Key": "wrong"}, 401),
        ("post", "/v1/documents", {**NEW, "id": "../escape.txt"}, AUTH, 422),
        ("post", "/v1/documents", {**NEW, "id": "notes.pdf"}, AUTH, 422),
        ("post", "/v1/documents", {**NEW, "text": "   "}, AUTH, 422),
        ("post", "/v1/documents", {"id": "a.txt"}, AUTH, 422),
        ("delete", "/v1/documents/nope.txt", None, AUTH, 404),
    ],
)
def test_bad_document_requests_get_a_json_4xx_and_change_nothing(folders, monkeypatch, method, path, body, headers, status):
    with client_for(folders, monkeypatch, RAG_API_KEY=KEY) as client:
        wait_ready(client)
        before = sorted(p.name for p in folders[0].iterdir())
        response = client.request(method.upper(), path, json=body, headers=headers)
        assert response.status_code == status and response.json()["error"]["message"]
        assert sorted(p.name for p in folders[0].iterdir()) == before


def test_writes_are_disabled_without_a_key_and_reads_can_be_protected(folders, monkeypatch):
    with client_for(folders, monkeypatch) as client:
        wait_ready(client)
        response = client.post("/v1/documents", json=NEW, headers=AUTH)
        assert response.status_code == 403 and "RAG_API_KEY" in response.json()["error"]["message"]
    with client_for(folders, monkeypatch, RAG_API_KEY=KEY, RAG_PROTECT_READS="1") as client:
        wait_ready(client)
        assert client.post("/v1/ask", json={"question": "港洽周"}).status_code == 401
        assert client.get("/v1/documents").status_code == 401
        assert client.post("/v1/ask", json={"question": "港洽周"}, headers=AUTH).status_code == 200
        assert client.get("/healthz").status_code == 200


def test_questions_are_answered_from_the_old_index_while_a_write_waits(folders, monkeypatch):
    with client_for(folders, monkeypatch, RAG_API_KEY=KEY) as client:
        wait_ready(client)
        results = {}
        with IndexDir(folders[1]).lock():  # another writer is busy: the POST must wait
            writer = threading.Thread(target=lambda: results.update(post=client.post("/v1/documents", json=NEW, headers=AUTH)))
            writer.start()
            time.sleep(0.5)
            started = time.monotonic()
            answer = client.post("/v1/ask", json={"question": "港洽周什么时候开幕？"})
            assert answer.status_code == 200 and time.monotonic() - started < 5
            assert "post" not in results
        writer.join(60)
        assert results["post"].status_code == 201
        assert client.get("/readyz").json()["documents"] == 3


def test_server_switches_to_a_build_published_by_another_process(folders, monkeypatch):
    with client_for(folders, monkeypatch) as client:
        wait_ready(client)
        (folders[0] / "chengdu.txt").write_text(NEW["text"], encoding="utf-8")
        update_index(*folders, load_settings(), Embedder())  # what `rag add` does
        deadline = time.monotonic() + 30
        while client.get("/readyz").json()["documents"] != 3:
            assert time.monotonic() < deadline, "the server did not pick up the new build"
            time.sleep(0.2)
        assert "27个" in client.post("/v1/ask", json={"question": "成都签约了多少个新项目？"}).json()["answer"]

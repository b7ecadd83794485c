"""Reading real-world files: UTF-8 with or without BOM, UTF-16, GB18030/GBK and Big5, CRLF; binary
and undecodable files are skipped and named, never a traceback."""

import re
from pathlib import Path

import pytest

from rag.ingest.corpus import CorpusError, check_doc_id, fingerprint, load_corpus, read_document, store_document
from rag.ingest.normalize import search_form
from rag.ingest.script import s2t

CORPUS = Path(__file__).parents[2] / "corpus"
SIMPLIFIED = (CORPUS / "001_e07e39b34995dd8d.txt").read_text(encoding="utf-8")[:3000]
TRADITIONAL = s2t(SIMPLIFIED)


@pytest.mark.parametrize(
    "text, encoding",
    [
        (SIMPLIFIED, "gb18030"),
        (SIMPLIFIED, "gbk"),
        (TRADITIONAL, "big5"),
        (TRADITIONAL, "utf-16"),
        (SIMPLIFIED, "utf-8-sig"),
        (SIMPLIFIED.replace("\n", "\r\n"), "utf-8"),
    ],
)
def test_encodings_decode_to_the_same_text(tmp_path, text, encoding):
    raw = text.encode(encoding, errors="replace")
    expected = raw.decode(encoding).removeprefix("\ufeff")
    (tmp_path / "a.txt").write_bytes(raw)
    doc = read_document(tmp_path / "a.txt")
    assert doc.text == expected
    form = search_form(doc.text)
    assert all(0 <= o < len(doc.text) for o in form.offsets.tolist())


def test_binary_and_undecodable_files_are_skipped_and_named(tmp_path, caplog):
    (tmp_path / "good.txt").write_text("长沙签约16个项目。", encoding="utf-8")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    (tmp_path / "empty.md").write_bytes(b"")
    corpus = load_corpus(tmp_path)
    assert [d.doc_id for d in corpus.documents] == ["empty.md", "good.txt"]
    assert list(corpus.skipped) == ["image.txt"]
    assert "image.txt: binary" in caplog.text


def test_a_corpus_of_unreadable_files_is_an_error(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(CorpusError, match="no readable, non-empty files"):
        load_corpus(tmp_path)


@pytest.mark.parametrize(
    "doc_id, words",
    [
        ("-rf.txt", "starting with a letter or digit"),
        (".hidden.txt", "starting with a letter or digit"),
        ("ｅｖｉｌ.txt", "'evil.txt'"),  # fullwidth letters: the same name to a reader
        ("𝒳.txt", "'X.txt'"),
        ("长" * 70 + ".txt", "at most 200 bytes"),
        ("a/b.txt", "bad document id"),
        ("notes.pdf", "ending in .txt or .md"),
    ],
)
def test_document_ids_that_pose_as_options_or_other_ids_are_refused(doc_id, words):
    with pytest.raises(CorpusError, match=re.escape(words)):
        check_doc_id(doc_id)


def test_plain_ids_in_any_script_are_accepted():
    for doc_id in ("长沙.txt", "長沙-2025.md", "report_1.2.txt", "長" * 60 + ".txt"):
        assert check_doc_id(doc_id) == doc_id


def test_a_symbolic_link_is_never_followed(tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("机密：账户密码。", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("长沙签约了16个项目。", encoding="utf-8")
    (corpus / "link.txt").symlink_to(outside)
    (corpus / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    loaded = load_corpus(corpus)
    assert [d.doc_id for d in loaded.documents] == ["a.txt"]
    assert "symbolic link" in loaded.reasons["link.txt"] and "dangling.txt" in loaded.skipped
    assert set(fingerprint(corpus)) == {"a.txt", "link.txt", "dangling.txt"}  # a new link makes the index stale


def test_a_few_undecodable_bytes_are_replaced_and_said_so(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes("衡阳签约了9个项目。".encode() + b"\xff\xfe" + "总投资20亿元。".encode())
    document = read_document(path)
    assert document.text == "衡阳签约了9个项目。\ufffd\ufffd总投资20亿元。"
    assert document.notes == ("2 undecodable byte(s) read as U+FFFD",)
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("长沙市今年签约了十六个重点产业转移合作项目，总投资超过三百亿元。".encode("gb18030"))
    assert read_document(gbk).text.startswith("长沙市") and not read_document(gbk).notes  # still a legacy encoding


def test_a_document_is_stored_under_any_valid_id(tmp_path):
    doc_id = "長" * 60 + ".txt"
    store_document(tmp_path, doc_id, "內容。".encode())
    assert (tmp_path / doc_id).read_text(encoding="utf-8") == "內容。" and [p.name for p in tmp_path.iterdir()] == [doc_id]

"""Reading real-world files: UTF-8 with or without BOM, UTF-16, GB18030/GBK and Big5, CRLF; binary
and undecodable files are skipped and named, never a traceback."""

from pathlib import Path

import pytest

from rag.ingest.corpus import CorpusError, load_corpus, read_document
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

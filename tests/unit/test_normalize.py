"""The search form: artefact repair, folding and the offset invariant citations rely on."""

from pathlib import Path

import pytest

from rag.ingest.chunking import chunk_document
from rag.ingest.normalize import normalize_query, search_form
from rag.ingest.repair import undoubled

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
PDF_DOC = "002_3f6590adb7d43881.txt"


def corpus_texts():
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))}


def test_offsets_map_every_character_back():
    for name, text in corpus_texts().items():
        form = search_form(text)
        assert len(form.text) == len(form.offsets)
        assert all(0 <= o < len(text) for o in form.offsets.tolist()), name
        assert list(form.offsets) == sorted(form.offsets), name


@pytest.mark.parametrize("doubled, expected", [
    ("55月月1515日日，，", "5月15日，"),
    ("「「港洽周港洽周」」 期間期間", "「港洽周」 期間"),
    ("湖南與大灣區雙向奔赴湖南與大灣區雙向奔赴", "湖南與大灣區雙向奔赴"),
])
def test_doubled_runs_are_undoubled(doubled, expected):
    keep = undoubled(doubled)
    assert keep is not None
    assert "".join(doubled[start:end] for start, end in keep) == expected


@pytest.mark.parametrize("line", ["大家天天看看书，人人都说好。", "相見、相談、相促", "2020", "謝謝謝謝", "謝謝！！", "长长..."])
def test_ordinary_lines_are_not_undoubled(line):
    assert undoubled(line) is None


def test_pdf_document_is_repaired():
    form = search_form(corpus_texts()[PDF_DOC])
    assert "5月15日,2025年湖南" in form.text
    assert "55月月" not in form.text
    # hard wraps are joined: this phrase spans a line break in the original
    assert "千里迢迢,不改携手初心" in form.text
    assert "湖南—香港投融资对接洽谈会5月14日在香港举行" in form.text


def test_search_form_folds_script_width_and_case():
    assert normalize_query("臺灣ＡＢＣ Mini-LED　１２３") == "台湾abc mini-led 123"


def test_repaired_keeps_original_script_without_artefacts():
    text = corpus_texts()[PDF_DOC]
    form = search_form(text)
    phrase = "5月15日,2025年湖南"
    at = form.text.index(phrase)
    assert form.repaired(text, at, at + len(phrase)) == "5月15日，2025年湖南"


def test_chunks_cite_exact_original_slices():
    for name, text in corpus_texts().items():
        form = search_form(text)
        chunks = chunk_document(name, form, size=200, overlap=40)
        assert chunks
        for c in chunks:
            assert form.text[c.search_start : c.search_end] == c.search_text
            assert (c.start, c.end) == form.original_span(c.search_start, c.search_end)
            assert text[c.start : c.end]  # the cited slice exists and is non-empty
            assert len(c.search_text) <= 200
        assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_fast_t2s_equals_opencc_on_both_scripts():
    """t2s skips text without a character it could convert; it must still equal OpenCC exactly."""
    import random

    from rag.ingest.script import _converter, s2t, t2s

    simplified = "".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt")))
    text = simplified + s2t(simplified) + "乾隆皇帝 乾坤 著作 瞭解 么麼 後來 于是 於是"
    rng = random.Random(0)
    fragments = text.split("\n") + [text[i : i + rng.randint(1, 30)] for i in (rng.randrange(len(text)) for _ in range(5000))]
    assert all(t2s(f) == _converter("t2s").convert(f) for f in fragments)


def test_no_character_folds_to_nothing():
    """search_form reads "as long as before folding" as "each character folded to one"."""
    import sys

    from rag.ingest.normalize import fold_char

    assert all(fold_char(chr(code)) for code in range(sys.maxunicode + 1))


def test_persisted_search_forms_round_trip(tmp_path):
    """The index stores every document's search form; loading it back (memory-mapped) must give
    exactly what normalising the document again gives, text and offsets."""
    from rag.ingest.normalize import SearchForms

    documents = {p.name: p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))}
    documents["empty.txt"] = ""
    SearchForms.of({doc: search_form(text) for doc, text in documents.items()}).save(tmp_path)
    loaded = SearchForms.load(tmp_path)
    for doc, text in documents.items():
        fresh, stored = search_form(text), loaded.get(doc)
        assert stored.text == fresh.text
        assert stored.offsets.tolist() == fresh.offsets.tolist()

"""Property tests (hypothesis): for any text mixing both Chinese scripts, Latin, digits, emoji,
combining marks and odd whitespace, every search-form character and every chunk maps back to the
original exactly."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.ingest.chunking import chunk_document, split_sentences
from rag.ingest.normalize import search_form

PIECES = list("长沙簽約项目港洽周灣區後來乾隆著作") + list("abcXYZ0123456789") + [
    "５", "Ａ", "ﬁ", "①", "😀", "👍🏽", "e\u0301", "\u0300", "。", "！", "？", "；", "，", "“", "”", "「", "」", "…",
    " ", "\u3000", "\t", "\n", "\r\n", "\n\n", "\u200b", "\ufeff", "55月月", "港洽周港洽周", "ß", "İ",
]
texts = st.lists(st.sampled_from(PIECES), max_size=300).map("".join)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(texts)
def test_every_search_character_points_into_the_original(text):
    form = search_form(text)
    assert len(form.offsets) == len(form.text)
    offsets = form.offsets.tolist()
    assert offsets == sorted(offsets)
    assert all(0 <= o < len(text) for o in offsets)


@FAST
@given(texts, st.integers(20, 120), st.integers(0, 19))
def test_chunks_and_sentences_cite_exact_slices(text, size, overlap):
    form = search_form(text)
    chunks = chunk_document("d.txt", form, size=size, overlap=overlap)
    for c in chunks:
        assert form.text[c.search_start : c.search_end] == c.search_text
        assert (c.start, c.end) == form.original_span(c.search_start, c.search_end)
        assert 0 <= c.start < c.end <= len(text)
        assert len(c.search_text) <= size
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    for s in split_sentences("d.txt", form):
        a, b = form.original_span(s.search_start, s.search_end)
        assert 0 <= a < b <= len(text)

"""The fast search form gives exactly what the code of commit 252199b gave (frozen in
reference_normalize.py): the same text and offsets for every seed and public corpus file, bench/scale.py's
synthetic documents and generated text; and its t2s equals OpenCC's own converter."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import opencc
import pytest
import reference_normalize as reference
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rag.ingest.normalize import search_form
from rag.ingest.repair import undoubled
from rag.ingest.script import s2t, t2s

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_SAMPLE = 300
SYNTHETIC_DOCS = 200
OPENCC = opencc.OpenCC("t2s")


def seed_texts() -> list[str]:
    folders = [ROOT / "corpus", ROOT.parent / "shared" / "corpus"]
    return [p.read_text(encoding="utf-8") for folder in folders for p in sorted(folder.glob("*.txt"))]


def public_texts() -> list[str]:
    """An even sample of the public evaluation corpora, when they are built."""
    paths = sorted((ROOT / "eval" / "public" / "build").glob("*/corpus/*.txt"))
    step = max(1, len(paths) // PUBLIC_SAMPLE)
    return [p.read_text(encoding="utf-8") for p in paths[::step][:PUBLIC_SAMPLE]]


def synthetic_texts() -> list[str]:
    """The first documents of bench/scale.py's corpus (a huge chunk size makes each one chunk)."""
    spec = importlib.util.spec_from_file_location("scale", ROOT / "bench" / "scale.py")
    assert spec and spec.loader
    scale = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scale)
    corpus = scale.synthetic_docs(SYNTHETIC_DOCS, 7, SimpleNamespace(chunk_size=10**9, chunk_overlap=0))
    return [d.text for d in corpus.documents]


TEXT_SETS = {"seed": seed_texts, "public": public_texts, "synthetic": synthetic_texts}


@pytest.fixture(scope="module", params=sorted(TEXT_SETS))
def texts(request):
    found = TEXT_SETS[request.param]()
    if not found:
        pytest.skip(f"no {request.param} texts here")
    return found


def assert_same_form(text: str) -> None:
    form = search_form(text)
    expected_text, expected_offsets = reference.search_form(text)
    assert form.text == expected_text
    assert form.offsets.dtype == expected_offsets.dtype
    np.testing.assert_array_equal(form.offsets, expected_offsets)


def test_search_form_matches_reference_on_files(texts):
    for text in texts:
        assert_same_form(text)


def test_t2s_matches_opencc_on_files(texts):
    """On each text and on its first 3,000 characters in Traditional script."""
    for text in texts:
        traditional = s2t(text[:3000])
        assert t2s(text) == OPENCC.convert(text)
        assert t2s(traditional) == OPENCC.convert(traditional)


# ---- generated text ------------------------------------------------------------------------------

DICTIONARY = Path(opencc.__file__).parent / "dictionary"
PHRASES = sorted(line.split("\t")[0] for line in (DICTIONARY / "TSPhrases.txt").read_text(encoding="utf-8").splitlines())
PHRASE_CHARS = sorted(set("".join(PHRASES)))
# two phrases sharing characters (上鍊 + 鍊墜 = 上鍊墜): which one OpenCC takes depends on its order
OVERLAPS = sorted({a + b[n:] for a in PHRASES for b in PHRASES if a != b for n in range(1, min(len(a), len(b))) if a.endswith(b[:n])})
SEPARATORS = list(" \t\n-,.?!*　，。、；：？！…“”‘’『』「」—－（）《》〈〉～．／＼【】［］｛｝︵︶")
SCRIPTS = list("长沙簽約项目港洽周灣區後來乾隆著作臺灣與雙向開幕書見電龍鍾於麼么瞭了干乾幹") + list("abcXYZ0123456789")
ODD = ["５", "Ａ", "ﬁ", "①", "😀", "👍🏽", "e\u0301", "\u0300", "ß", "İ", "Σ", "ΑΣ", "℃", "㎡", "…", "\u200b", "\ufeff", "\u3000", "\r\n", "\x0b", "\u2028", "  ", " \t ", "Mini-LED", "Hunan"]
SEED = "".join(seed_texts())
FRAGMENTS = [SEED[i : i + n] for i, n in zip(range(0, len(SEED), 997), [5, 12, 30, 45, 60] * 100)] or ["湖南日报全媒体记者"]


def doubled(alphabet: list[str]) -> st.SearchStrategy[str]:
    """XX for a short X: the artefact `undoubled` repairs."""
    return st.lists(st.sampled_from(alphabet), min_size=1, max_size=8).map(lambda x: "".join(x) * 2)


pieces = st.one_of(
    st.sampled_from(SCRIPTS + ODD + SEPARATORS),
    st.sampled_from(FRAGMENTS),
    st.sampled_from(PHRASES),
    doubled([*SCRIPTS, " ", "，", "5"]),
    st.sampled_from(["\n", "\n\n", " \n", "\n \n", "。\n", "，\n", "Hunan and Hong Kong signed 26 agreements on trade, covering \n \n", "new energy \n", " and "]),
)
texts_mixed = st.tuples(st.sampled_from(["", "---\ntitle: 標題\n---\n", "---\n"]), st.lists(pieces, max_size=120)).map(lambda t: t[0] + "".join(t[1]))
doubled_lines = st.lists(st.one_of(doubled([*SCRIPTS, "，", " "]), st.sampled_from([*SCRIPTS, " ", "\u3000"])), max_size=60).map("".join)
phrase_texts = st.lists(st.one_of(*(st.sampled_from(p) for p in (PHRASES, OVERLAPS, PHRASE_CHARS, SEPARATORS + SCRIPTS))), max_size=80).map("".join)
MANY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@MANY
@given(texts_mixed)
def test_search_form_matches_reference_on_generated_text(text):
    assert_same_form(text)


@MANY
@given(st.lists(doubled_lines, min_size=1, max_size=6).map("\n".join))
def test_search_form_matches_reference_on_doubled_text(text):
    assert_same_form(text)


LONG = "湖南與大灣區雙向奔赴，「港洽周」於5月15日在香港開幕。長沙簽約項目總投資超過一千億元，同比增長"


@MANY
@given(doubled_lines)
@example(LONG[:40] * 2)  # the longest run that is undoubled
@example(LONG[:41] * 2)
@example("5" + LONG[:39] + "5" + LONG[:39] + " 月月日日")
def test_undoubled_keeps_what_the_reference_kept(line):
    spans = undoubled(line)
    expected = reference.undoubled(line)
    assert (spans is None) == (expected is None)
    if spans is not None:
        assert [i for start, end in spans for i in range(start, end)] == expected


@MANY
@given(st.one_of(phrase_texts, texts_mixed))
def test_t2s_matches_opencc_on_generated_text(text):
    assert t2s(text) == OPENCC.convert(text)

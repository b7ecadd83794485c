"""The sparse BM25 engine agrees with rank-bm25 (the reference) on real corpus chunks."""

from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from rag.index.bm25 import BM25
from rag.ingest.chunking import chunk_document
from rag.ingest.normalize import normalize_query, search_form
from rag.ingest.tokenization import bigram_tokens, jieba_tokens

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
QUERIES = ["长沙签约项目", "湖南省投資環境報告", "Mini-LED 2024年 产能", "香港在湘投资", "衡阳 新引进 重大招商项目", "no such words"]


@pytest.fixture(scope="module")
def chunks():
    out = []
    for path in sorted(CORPUS.glob("*.txt")):
        out += [c.search_text for c in chunk_document(path.name, search_form(path.read_text()), 200, 40)]
    return out


@pytest.mark.parametrize("tokenize", [bigram_tokens, jieba_tokens])
def test_scores_and_rankings_match_rank_bm25(chunks, tokenize):
    corpus = [tokenize(c) for c in chunks]
    ours, reference = BM25().index(corpus), BM25Okapi(corpus)
    for query in QUERIES:
        tokens = tokenize(normalize_query(query))
        expected = reference.get_scores(tokens)
        np.testing.assert_allclose(ours.scores(tokens), expected, rtol=1e-5, atol=1e-5)
        ids, scores = ours.retrieve(tokens, 10)
        positive = np.flatnonzero(expected > 0)
        top = positive[np.lexsort((positive, -expected[positive]))][:10]
        assert list(ids) == list(top)
        np.testing.assert_allclose(scores, expected[top], rtol=1e-5, atol=1e-5)


def test_save_and_load_round_trip(tmp_path, chunks):
    corpus = [bigram_tokens(c) for c in chunks]
    model = BM25().index(corpus)
    model.save(tmp_path)
    loaded = BM25.load(tmp_path)
    tokens = bigram_tokens(normalize_query(QUERIES[0]))
    np.testing.assert_array_equal(model.scores(tokens), loaded.scores(tokens))


def test_tokenizers_handle_mixed_text():
    text = normalize_query("Mini-LED面板2025年產能達到120萬片")
    assert bigram_tokens(text) == ["mini-led", "mini", "led", "面板", "2025", "年产", "产能", "能达", "达到", "120", "万片"]
    assert {"mini-led", "面板", "2025", "产能", "达到", "120"} <= set(jieba_tokens(text))
    assert bigram_tokens("3.5% 1.56") == ["3.5", "1.56"]

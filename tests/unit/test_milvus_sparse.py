"""The Milvus store's lexical side is our BM25 exactly: a chunk's sparse vector (its column of the
term-by-chunk weight matrix) times a query's (its tokens' counts) is the chunk's BM25 score."""

import numpy as np

from rag.index.bm25 import BM25
from rag.ingest.normalize import normalize_query
from rag.ingest.tokenization import bigram_tokens
from rag.store.milvus import NO_TERM, chunk_weights, collection_names, namespace, query_text, query_vector

TEXTS = [
    "长沙签约了16个重点产业转移合作项目，总投资额达1200亿元",
    "港洽周于5月15日在香港开幕，湖南代表团签约项目",
    "衡阳新引进重大招商项目，长沙长沙再签约",
    "Mini-LED 面板 2025年产能达到120万片",
    "……",  # no token at all
]
QUERIES = ["长沙签约项目", "长沙 长沙 项目", "港洽周开幕", "Mini-LED产能", "no such words", "签约签约签约"]


def inner(query: dict[int, float], chunk: dict[int, float]) -> float:
    return sum(weight * chunk.get(term, 0.0) for term, weight in query.items())


def test_the_inner_product_of_sparse_vectors_is_the_bm25_score():
    bm25 = BM25().index(bigram_tokens(normalize_query(t)) for t in TEXTS)
    weights = bm25.weights.tocsc()
    chunks = [chunk_weights(weights, i) for i in range(len(TEXTS))]
    for query in QUERIES:
        tokens = bigram_tokens(normalize_query(query))
        vector = query_vector(tokens, bm25.vocab)
        products = np.array([inner(vector, chunk) for chunk in chunks], dtype=np.float32)
        np.testing.assert_allclose(products, bm25.scores(tokens), rtol=1e-6, atol=1e-6)
    assert any(bm25.scores(bigram_tokens("长沙 长沙")) != bm25.scores(bigram_tokens("长沙")))  # repeats count, in both


def test_a_chunk_without_tokens_gets_a_dimension_no_query_has():
    bm25 = BM25().index(bigram_tokens(normalize_query(t)) for t in TEXTS)
    assert chunk_weights(bm25.weights.tocsc(), len(TEXTS) - 1) == {NO_TERM: 1.0}  # Milvus refuses an empty sparse vector
    assert NO_TERM not in bm25.vocab.values()


def test_native_bm25_is_asked_with_the_text_the_bigrams_came_from():
    tokens = bigram_tokens(normalize_query("长沙签约了多少个项目？Mini-LED 2025年"))
    assert query_text(tokens) == "长沙签约了多少个项目 mini-led mini led 2025 年"


def test_collections_are_named_after_their_index_folder_and_build(tmp_path):
    names = collection_names(tmp_path / "index", "build-17964-25221")
    assert names["chunks"] == f"{namespace(tmp_path / 'index')}build_17964_25221_chunks"
    assert namespace(tmp_path / "index") != namespace(tmp_path / "other")  # folders sharing a server never drop each other's

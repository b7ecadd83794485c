"""BM25, dense and hybrid retrieval over one index, fused by chunk index."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.config import Settings
from rag.embedding.model import Embedder
from rag.lexical.bm25 import top_scores
from rag.lexical.tokenization import get_tokenizer
from rag.normalize import normalize_query
from rag.store import Index

METHODS = ("bm25", "dense", "hybrid")
MIN_RARITY = 0.1  # idf floor for term support weights


@dataclass
class Hit:
    chunk: int  # position in index.chunks
    score: float  # the ranking score of the method that produced the hit
    dense: float  # cosine between query and chunk
    lexical: float  # BM25 score (0 when no query term occurs)


@dataclass
class Query:
    """A question prepared once for every method: search form, tokens and embedding."""

    text: str
    form: str
    tokens: list[str]  # BM25 tokens, bridged Chinese terms of an English question included
    vector: np.ndarray  # the question's embedding: answer scoring and confidence
    terms: dict[str, list[str]]  # English word or phrase -> Chinese corpus words (the bridge)
    search_vector: np.ndarray  # what dense retrieval ranks by (see search_vector below)


def search_vector(question: np.ndarray, translated: np.ndarray, weight: float) -> np.ndarray:
    """An English question's embedding blended with that of its bridged Chinese words: the small
    model matches Chinese words to Chinese passages more surely than English to Chinese."""
    vector = question + weight * translated
    return vector / np.linalg.norm(vector)


class Retriever:
    def __init__(self, index: Index, embedder: Embedder, settings: Settings):
        self.index, self.embedder, self.settings = index, embedder, settings
        self.tokenize = get_tokenizer(settings.tokenizer)

    def prepare(self, text: str) -> Query:
        form = normalize_query(text)
        terms = {}
        if self.settings.translate_queries:
            terms = self.index.bridge.translate(form) | self.index.bridge.names(text, self.index.bm25.document_frequency)
        tokens = self.tokenize(form) + [t for words in terms.values() for word in words for t in self.tokenize(word)]
        glossary = " ".join(dict.fromkeys(word for words in terms.values() for word in words))
        weight = self.settings.translated_query_weight
        if glossary and weight > 0:
            vector, translated = self.embedder.embed_queries([form, glossary])
            ranking = search_vector(vector, translated, weight)
        else:
            vector = ranking = self.embedder.embed_queries([form])[0]
        return Query(text, form, tokens, vector, terms, ranking)

    def search(self, query: Query, k: int, method: str = "hybrid") -> list[Hit]:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}")
        pool = max(k, self.settings.candidates)
        lexical = self.index.bm25.scores(query.tokens)  # once: ranks the pool and scores the hits
        lexical_ids, lexical_scores = top_scores(lexical, pool)
        dense_ids, dense_scores = self.dense_ranking(query, pool)
        if method == "bm25":
            ranked = list(zip(lexical_ids, lexical_scores))
        elif method == "dense":
            ranked = list(zip(dense_ids, dense_scores))
        else:
            ranked = self._fuse(query, dense_ids, lexical_ids, lexical_scores, dense_scores)
        top = ranked[:k]
        cosines = self.dense_scores(query.vector, [int(i) for i, _ in top])  # the question's own, for confidence
        return [
            Hit(int(i), float(s), cosines[j], float(lexical[int(i)]))
            for j, (i, s) in enumerate(top)
        ]

    def dense_ranking(self, query: Query, pool: int) -> tuple[np.ndarray, np.ndarray]:
        """Chunks near the query as a whole or through one of their sentences: a chunk mixes
        several facts, and a question (above all a cross-lingual one) often matches just one."""
        chunk_ids, _ = self.index.dense.search(query.search_vector, pool)
        sentence_ids, _ = self.index.sentence_dense.search(query.search_vector, pool)
        candidates = set(chunk_ids.tolist())
        for sentence in sentence_ids.tolist():
            candidates.update(self.index.sentence_chunks[sentence])
        ids = sorted(candidates)
        scores = np.asarray(self.dense_scores(query.search_vector, ids), dtype=np.float32)
        order = np.lexsort((ids, -scores))[:pool]
        return np.asarray(ids, dtype=np.int64)[order], scores[order]

    def dense_scores(self, vector: np.ndarray, chunk_ids: list[int]) -> list[float]:
        """Per chunk, the best cosine of the chunk or any of its sentences with `vector`."""
        if not chunk_ids:
            return []
        chunk_cos = self.index.dense.vectors(chunk_ids) @ vector
        out = []
        for chunk, cos in zip(chunk_ids, chunk_cos.tolist()):
            members = self.index.chunk_sentences[chunk]
            sentence_cos = (self.index.sentence_dense.vectors(members) @ vector).tolist()
            out.append(max([cos, *sentence_cos]))
        return out

    def rarity(self, word: str) -> float:
        """Idf of the word's rarest token (a word the index never saw is as rare as can be),
        floored so that no word weighs nothing."""
        idf = self.index.bm25.idf(self.tokenize(word) or [word])
        return max(float(idf.max()), MIN_RARITY)

    def indexed(self, word: str) -> bool:
        """Does some passage hold every token of the word? (False for a name the corpus never uses.)"""
        tokens = self.tokenize(word)
        return bool(tokens) and all(self.index.bm25.document_frequency(t) > 0 for t in tokens)

    def lexical_coverage(self, query: Query) -> float:
        """Share of the query's idf mass that the index vocabulary knows: near 0 for an English
        question over Chinese text, so BM25 noise cannot outvote the dense ranking there."""
        if not query.tokens:
            return 0.0
        vocab = self.index.bm25.vocab
        known = sum(t in vocab for t in query.tokens)
        return known / len(query.tokens)

    def _fuse(self, query, dense_ids, lexical_ids, lexical_scores, dense_scores) -> list[tuple[int, float]]:
        s = self.settings
        lexical_weight = s.lexical_weight * self.lexical_coverage(query)
        fused: dict[int, float] = {}
        if s.fusion == "rrf":
            for weight, ids in ((s.dense_weight, dense_ids), (lexical_weight, lexical_ids)):
                for rank, i in enumerate(ids):
                    fused[int(i)] = fused.get(int(i), 0.0) + weight / (s.rrf_k + rank + 1)
        else:  # weighted sum of scores scaled to [0, 1] within the candidate pool
            for weight, ids, scores in ((s.dense_weight, dense_ids, dense_scores), (lexical_weight, lexical_ids, lexical_scores)):
                if len(ids):
                    lo, hi = float(np.min(scores)), float(np.max(scores))
                    for i, v in zip(ids, scores):
                        fused[int(i)] = fused.get(int(i), 0.0) + weight * ((float(v) - lo) / (hi - lo) if hi > lo else 1.0)
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))

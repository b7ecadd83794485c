"""BM25, dense and hybrid retrieval of chunks for an analysed question."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from rag.analysis.question import Question
from rag.index.bm25 import top_scores
from rag.index.index import Index
from rag.search.fusion import fuse
from rag.settings import Settings


class Method(StrEnum):
    BM25 = "bm25"
    DENSE = "dense"
    HYBRID = "hybrid"


@dataclass
class Hit:
    chunk: int  # position in index.chunks
    score: float  # the ranking score of the method that produced the hit
    dense: float  # best cosine between the question's own vector and the chunk or its sentences
    lexical: float  # BM25 score (0 when no query term occurs)


class Retriever:
    def __init__(self, index: Index, settings: Settings):
        self.index, self.settings = index, settings

    def search(self, question: Question, k: int, method: Method = Method.HYBRID) -> list[Hit]:
        method = Method(method)
        pool = max(k, self.settings.candidates)
        lexical = self.index.bm25.scores(question.tokens)  # once: ranks the pool and scores the hits
        lexical_ids, lexical_scores = top_scores(lexical, pool)
        dense_ids, dense_scores = self.dense_ranking(question.search_vector, pool)
        if method == Method.BM25:
            ranked = list(zip(lexical_ids.tolist(), lexical_scores.tolist()))
        elif method == Method.DENSE:
            ranked = list(zip(dense_ids.tolist(), dense_scores.tolist()))
        else:
            s = self.settings
            lexical_weight = s.lexical_weight * self.lexical_coverage(question)
            ranked = fuse(s.fusion, [(s.dense_weight, (dense_ids, dense_scores)), (lexical_weight, (lexical_ids, lexical_scores))], s.rrf_k)
        top = ranked[:k]
        cosines = self.dense_scores(question.vector, [int(i) for i, _ in top])  # the question's own, for confidence
        return [Hit(int(i), float(s), cosines[j], float(lexical[int(i)])) for j, (i, s) in enumerate(top)]

    def dense_ranking(self, vector: np.ndarray, pool: int) -> tuple[np.ndarray, np.ndarray]:
        """Chunks near the query as a whole or through one of their sentences: a chunk mixes
        several facts, and a question (above all a cross-lingual one) often matches just one."""
        chunk_ids, _ = self.index.dense.search(vector, pool)
        sentence_ids, _ = self.index.sentence_dense.search(vector, pool)
        candidates = set(chunk_ids.tolist())
        for sentence in sentence_ids.tolist():
            candidates.update(self.index.sentence_chunks[sentence])
        ids = sorted(candidates)
        scores = np.asarray(self.dense_scores(vector, ids), dtype=np.float32)
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

    def lexical_coverage(self, question: Question) -> float:
        """Share of the query's tokens that the index vocabulary knows: near 0 for an English
        question over Chinese text, so BM25 noise cannot outvote the dense ranking there."""
        if not question.tokens:
            return 0.0
        vocab = self.index.bm25.vocab
        return sum(t in vocab for t in question.tokens) / len(question.tokens)

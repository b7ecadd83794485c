"""BM25, dense and hybrid retrieval of chunks for an analysed question."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from rag.analysis.question import Question
from rag.index.bm25 import top_scores
from rag.index.index import Index
from rag.search.fusion import Ranking, fuse
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
        """The top `k` chunks. Each form the question is searched in (as asked, and its translation
        when a language model gave one) adds a BM25 and a dense ranking; the method's rankings are
        fused (rag/search/fusion.py), a single one is taken as it stands."""
        method, s = Method(method), self.settings
        pool = max(k, s.candidates)
        rankings: list[tuple[float, Ranking]] = []
        lexical = np.zeros(len(self.index.chunks), dtype=np.float32)  # best BM25 score per chunk over the forms
        for tokens, vector in question.searches:
            scores = self.index.bm25.scores(tokens)  # once: ranks the pool and scores the hits
            lexical = np.maximum(lexical, scores)
            if method != Method.DENSE:
                rankings.append((s.lexical_weight, top_scores(scores, pool)))
            if method != Method.BM25:
                rankings.append((s.dense_weight, self.dense_ranking(vector, pool)))
        if len(rankings) == 1:
            ids, values = rankings[0][1]
            ranked = list(zip(ids.tolist(), values.tolist()))
        else:
            ranked = fuse(s.fusion, rankings, s.rrf_k)
        top = ranked[:k]
        cosines = self.dense_scores(question.vector, [int(i) for i, _ in top])  # the question's own, for confidence
        return [Hit(int(i), float(v), cosines[j], float(lexical[int(i)])) for j, (i, v) in enumerate(top)]

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

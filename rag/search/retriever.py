"""BM25, dense and hybrid retrieval of chunks for an analysed question, over the index's store
(rag/store/: the local files or Milvus, asked the same questions)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from rag.analysis.question import Question
from rag.index.index import Index
from rag.search.fusion import Ranking, fuse
from rag.settings import Fusion, Settings
from rag.store.base import Part


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
        # Milvus's own RRF, when asked for: it differs from ours (unweighted, chunks only), so off by default
        self.store_fuses = settings.milvus_hybrid and settings.fusion == Fusion.RRF and index.store.fuses

    def search(self, question: Question, k: int, method: Method = Method.HYBRID) -> list[Hit]:
        """The top `k` chunks. Each form the question is searched in (as asked, and its translation
        when a language model gave one) adds a BM25 and a dense ranking; the method's rankings are
        fused (rag/search/fusion.py), a single one is taken as it stands."""
        method, s, store = Method(method), self.settings, self.index.store
        pool = max(k, s.candidates)
        rankings: list[tuple[float, Ranking]] = []
        for tokens, vector in question.searches:
            if method == Method.HYBRID and self.store_fuses:
                rankings.append((1.0, store.hybrid(tokens, vector, pool, s.rrf_k)))
                continue
            if method != Method.DENSE:
                rankings.append((s.lexical_weight, store.lexical(tokens, pool)))
            if method != Method.BM25:
                rankings.append((s.dense_weight, self.dense_ranking(vector, pool)))
        if len(rankings) == 1:
            ids, values = rankings[0][1]
            ranked = list(zip(ids.tolist(), values.tolist()))
        else:
            ranked = fuse(s.fusion, rankings, s.rrf_k)
        top = [int(i) for i, _ in ranked[:k]]
        cosines = self.dense_scores(question.vector, top)  # the question's own, for confidence
        lexical = self.lexical_scores(question, top)
        return [Hit(i, float(v), cosines[j], float(lexical[j])) for j, (i, v) in enumerate(ranked[:k])]

    def lexical_scores(self, question: Question, chunk_ids: list[int]) -> np.ndarray:
        """Per chunk, its best BM25 score over the forms the question is searched in."""
        best = np.zeros(len(chunk_ids), dtype=np.float32)
        for tokens, _ in question.searches:
            best = np.maximum(best, self.index.store.lexical_scores(tokens, chunk_ids))
        return best

    def dense_ranking(self, vector: np.ndarray, pool: int) -> tuple[np.ndarray, np.ndarray]:
        """Chunks near the query as a whole or through one of their sentences: a chunk mixes
        several facts, and a question (above all a cross-lingual one) often matches just one."""
        chunk_ids, _ = self.index.store.dense(Part.CHUNKS, vector, pool)
        sentence_ids, _ = self.index.store.dense(Part.SENTENCES, vector, pool)
        candidates = set(chunk_ids.tolist())
        for sentence in sentence_ids.tolist():
            candidates.update(self.index.sentence_chunks[sentence])
        ids = sorted(candidates)
        scores = np.asarray(self.dense_scores(vector, ids), dtype=np.float32)
        order = np.lexsort((ids, -scores))[:pool]
        return np.asarray(ids, dtype=np.int64)[order], scores[order]

    def dense_scores(self, vector: np.ndarray, chunk_ids: list[int]) -> list[float]:
        """Per chunk, the best cosine of the chunk or any of its sentences with `vector`. The
        vectors are fetched at once (a remote store is asked twice, not once per chunk)."""
        if not chunk_ids:
            return []
        store = self.index.store
        chunk_cos = store.vectors(Part.CHUNKS, chunk_ids) @ vector
        members = [self.index.chunk_sentences[chunk] for chunk in chunk_ids]
        sentence_ids = sorted({s for held in members for s in held})
        row = {s: i for i, s in enumerate(sentence_ids)}
        stored = store.vectors(Part.SENTENCES, sentence_ids)
        out = []
        for cos, held in zip(chunk_cos.tolist(), members):
            sentence_cos = (stored[[row[s] for s in held]] @ vector).tolist()
            out.append(max([cos, *sentence_cos]))
        return out

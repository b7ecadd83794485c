"""Okapi BM25 as one sparse matrix: a query is a sparse row times the term-by-chunk weight matrix.

Scores are those of rank-bm25's `BM25Okapi` (including its floor for negative idf, `epsilon`
times the mean idf), which the tests use as the reference; a query costs one sparse product
instead of a Python loop over every chunk.
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from scipy import sparse

MATRIX_PARTS = ("data", "indices", "indptr")  # a CSR matrix's arrays, one .npy file each


def top_scores(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the k highest non-zero scores, best first (ties by index)."""
    k = min(k, int(np.count_nonzero(scores)))
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.lexsort((top, -scores[top]))]
    return top, scores[top]


class BM25:
    def __init__(self, k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25):
        self.k1, self.b, self.epsilon = k1, b, epsilon
        self.vocab: dict[str, int] = {}
        self.weights = sparse.csr_matrix((0, 0), dtype=np.float32)  # terms x chunks

    @property
    def size(self) -> int:
        return self.weights.shape[1]

    def index(self, corpus_tokens: Iterable[list[str]]) -> BM25:
        """One pass over each chunk's tokens. Any iterable will do: postings are kept as packed
        32-bit arrays, already grouped by chunk (the columns), so the matrix is made without a
        coordinate list and its weights computed in place: a million-chunk build within memory."""
        terms, tfs, widths, lengths = array("i"), array("i"), array("i"), array("i")
        for tokens in corpus_tokens:
            counts = Counter(tokens)
            lengths.append(len(tokens))
            widths.append(len(counts))
            terms.extend(self.vocab.setdefault(term, len(self.vocab)) for term in counts)
            tfs.extend(counts.values())
        n_docs = len(lengths)
        indices, width = np.frombuffer(terms, dtype=np.intc), np.frombuffer(widths, dtype=np.intc)
        idf = self._idf(np.bincount(indices, minlength=len(self.vocab)), n_docs).astype(np.float32)
        length = np.frombuffer(lengths, dtype=np.intc).astype(np.float32)
        avg_len = float(length.mean()) if n_docs else 0.0
        tf = np.frombuffer(tfs, dtype=np.intc).astype(np.float32)
        del tfs
        weights = idf[indices]
        weights *= tf
        weights *= self.k1 + 1
        tf += np.repeat(self.k1 * (1 - self.b + self.b * length / max(avg_len, 1e-9)), width)  # tf + norm
        weights /= tf
        del tf
        indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(width, out=indptr[1:])
        self.weights = sparse.csc_matrix((weights, indices, indptr), shape=(len(self.vocab), n_docs)).tocsr()
        return self

    def _idf(self, doc_freq: np.ndarray, n_docs: int) -> np.ndarray:
        idf = np.log(n_docs - doc_freq + 0.5) - np.log(doc_freq + 0.5)
        if len(idf):
            idf = np.where(idf < 0, self.epsilon * idf.mean(), idf)
        return idf

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk (repeated query terms count again, as in rank-bm25)."""
        counts = Counter(t for t in query_tokens if t in self.vocab)
        if not counts:
            return np.zeros(self.size, dtype=np.float32)
        ids = np.fromiter((self.vocab[t] for t in counts), dtype=np.int64)
        weights = np.fromiter(counts.values(), dtype=np.float32)
        return np.asarray(weights @ self.weights[ids]).ravel()

    def document_frequency(self, term: str) -> int:
        """Chunks containing the term (a term's row holds one entry per such chunk)."""
        row = self.vocab.get(term)
        return 0 if row is None else int(self.weights.indptr[row + 1] - self.weights.indptr[row])

    def idf(self, terms: list[str]) -> np.ndarray:
        """Unfloored idf per term; a term the index has never seen gets the idf of a document
        frequency of zero, the rarest possible."""
        starts = self.weights.indptr  # a term's row holds one entry per chunk containing it
        ids = [self.vocab.get(t) for t in terms]
        freqs = np.array([starts[i + 1] - starts[i] if i is not None else 0 for i in ids], dtype=np.float64)
        return np.log(self.size - freqs + 0.5) - np.log(freqs + 0.5)

    def retrieve(self, query_tokens: list[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k chunk indices and scores, best first; chunks scoring 0 are not returned."""
        return top_scores(self.scores(query_tokens), k)

    def save(self, directory: Path) -> None:
        """The weight matrix as three plain arrays (memory-mapped on load: nothing to decompress)."""
        for part in MATRIX_PARTS:
            np.save(directory / f"bm25_{part}.npy", getattr(self.weights, part))
        params = {"k1": self.k1, "b": self.b, "epsilon": self.epsilon}
        meta = {"params": params, "shape": list(self.weights.shape), "vocab": list(self.vocab)}
        (directory / "bm25.json").write_text(json.dumps(meta, ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path) -> BM25:
        meta = json.loads((directory / "bm25.json").read_text())
        model = cls(**meta["params"])
        model.vocab = {term: row for row, term in enumerate(meta["vocab"])}
        data, indices, indptr = (np.load(directory / f"bm25_{part}.npy", mmap_mode="r") for part in MATRIX_PARTS)
        model.weights = sparse.csr_matrix((data, indices, indptr), shape=tuple(meta["shape"]), copy=False)
        return model

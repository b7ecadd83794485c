"""What the learned reader sees: a sentence's words, the characters it shares with the question,
its candidate answer spans, and the feature vectors of spans and sentences (the decision's are in
reader.py).

Everything runs on search forms (lower case, Simplified), so one model serves every script. The
features are generic (word classes, lengths, distances to the question's words, the kind of answer
the question asks for); which of them matter, and how much, is learned (train/reader.py).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rag.analysis.question import Question
from rag.answering.fit import fits
from rag.ingest.tokenization import jieba_module

MAX_SPAN_TOKENS = 6  # an answer is a count, a date, a name or a short phrase ...
MAX_SPAN_CHARS = 24
CLAUSE_MARKS = frozenset("，,；;。！？!?：:（）()「」『』“”\"《》【】")  # ... inside one clause
KINDS = ("percent", "date", "money", "count", "measure", "duration", "headcount", "person")
TAGS = ("n", "nr", "ns", "nt", "nz", "v", "vn", "m", "q", "t", "a", "d", "p", "c", "u", "r", "eng", "x", "f", "s")
CONTAINED = ("m", "q", "t", "nr", "ns", "nt", "eng", "nz")
NEIGHBOUR_BUCKETS = 32  # the words either side of a span, hashed: "是 X", "X 年" are learned
CUE_BUCKETS, CUE_WORDS = 16, 2  # the question's first and last words, hashed
WINDOW = 6  # characters either side of a span in which the question's words are counted
WH_WORDS = ("什么", "哪", "谁", "多少", "几", "何", "怎", "啥")  # where a Chinese question leaves its gap


@dataclass(frozen=True, slots=True)
class Word:
    text: str
    tag: str  # jieba part of speech
    start: int  # offsets within the sentence
    end: int


@lru_cache(maxsize=8192)
def words(sentence: str) -> tuple[Word, ...]:
    """The sentence's words with their parts of speech (cached: the same sentences recur)."""
    out, pos = [], 0
    for pair in jieba_module().posseg.cut(sentence, HMM=False):  # the HMM for unseen words costs 5x
        out.append(Word(pair.word, pair.flag, pos, pos + len(pair.word)))
        pos += len(pair.word)
    return tuple(out)


@lru_cache(maxsize=256)
def question_pairs(form: str) -> frozenset[str]:
    """A question's two-character runs (made once per question, read for every sentence)."""
    return frozenset(form[i : i + 2] for i in range(len(form) - 1))


def question_marks(sentence: str, question: Question) -> np.ndarray:
    """Which characters of the sentence echo the question: its subject words (bridged Chinese words
    for an English question) and, for a Chinese question, any two characters in a row it shares."""
    marks = np.zeros(len(sentence), dtype=bool)
    for _, group in question.subject.groups:
        for word in group:
            start = sentence.find(word)
            while word and start != -1:
                marks[start : start + len(word)] = True
                start = sentence.find(word, start + 1)
    if question.chinese:
        pairs = question_pairs(question.form)
        for i in range(len(sentence) - 1):
            if sentence[i : i + 2] in pairs and not sentence[i : i + 2].isspace():
                marks[i : i + 2] = True
    return marks


def span_candidates(sentence: str) -> list[tuple[int, int, int, int, int]]:
    """(start, end, first word, last word + 1, clauses) of every run of up to MAX_SPAN_TOKENS words
    inside a clause (clauses 0), and of every run of whole clauses (their count): the short
    answers a sentence can give, and the longer ones a what- or why-question asks for."""
    ws = words(sentence)
    clauses: list[list[int]] = [[]]
    for i, w in enumerate(ws):
        if w.text in CLAUSE_MARKS:
            clauses.append([])
        elif w.text.strip():
            clauses[-1].append(i)
    clauses = [c for c in clauses if c]
    out = []
    for clause in clauses:
        for a_pos, a in enumerate(clause):
            for b in clause[a_pos : a_pos + MAX_SPAN_TOKENS]:
                if ws[b].end - ws[a].start <= MAX_SPAN_CHARS and _worded(ws[a]) and _worded(ws[b]):
                    out.append((ws[a].start, ws[b].end, a, b + 1, 0))
    for i, first in enumerate(clauses):
        for j, last in enumerate(clauses[i:], start=1):
            out.append((ws[first[0]].start, ws[last[-1]].end, first[0], last[-1] + 1, j))
    return out


def _worded(word: Word) -> bool:
    """An answer starts and ends on a word, not on a mark ("、土城")."""
    return any(ch.isalnum() for ch in word.text)


def _one_hot(value: str, options: tuple[str, ...]) -> list[float]:
    return [float(value == o) for o in options] + [float(value not in options)]


def _bins(value: float, edges: tuple[float, ...]) -> list[float]:
    return [float(b) for b in np.eye(len(edges) + 1)[int(np.searchsorted(edges, value, side="right"))]]


def _bucket(text: str) -> int:
    return zlib.crc32(text.encode()) % NEIGHBOUR_BUCKETS


@dataclass(frozen=True)
class AskedFor:
    """What the question asks for, as span features cross it: the answer kinds it names
    (rag/analysis/kinds.py) and its opening and closing words, hashed, where the wh-words stand
    ("How many ...", "...是什么")."""

    kinds: np.ndarray
    cues: np.ndarray
    before: frozenset[str] = frozenset()  # a Chinese question's words just before its wh-word ...
    after: frozenset[str] = frozenset()  # ... and just after: the answer takes its place between them

    @classmethod
    def of(cls, question: Question) -> AskedFor:
        kinds = [float(k in question.kinds) for k in KINDS]
        ws = [w for w in jieba_module().lcut(question.form) if any(ch.isalnum() for ch in w)]
        cues = np.zeros(CUE_BUCKETS)
        for w in ws[:CUE_WORDS] + ws[-CUE_WORDS:]:
            cues[zlib.crc32(w.encode()) % CUE_BUCKETS] = 1.0
        wh = next((i for i, w in enumerate(ws) if any(q in w for q in WH_WORDS)), None) if question.chinese else None
        if wh is None:
            return cls(np.array([*kinds, float(not any(kinds))]), cues)
        return cls(np.array([*kinds, float(not any(kinds))]), cues, frozenset(ws[max(wh - 2, 0) : wh]), frozenset(ws[wh + 1 : wh + 3]))


class TermOverlap:
    """The question's BM25 terms weighted by idf (bridged Chinese terms of an English question
    included): the share of that weight a sentence holds."""

    def __init__(self, terms: list[str], idf: np.ndarray, tokenize: Callable[[str], list[str]]):
        self.weights = dict(zip(terms, np.maximum(idf, 0.0).tolist()))
        self.total = sum(self.weights.values())
        self.tokenize = tokenize

    def share(self, text: str) -> float:
        if not self.total:
            return 0.0
        return sum(self.weights.get(t, 0.0) for t in set(self.tokenize(text))) / self.total


def _one_hot_rows(values: np.ndarray, size: int) -> np.ndarray:
    return np.eye(size)[values]


def _bin_rows(values: np.ndarray, edges: tuple[float, ...]) -> np.ndarray:
    return _one_hot_rows(np.searchsorted(edges, values, side="right"), len(edges) + 1)


def _prefix(flags: np.ndarray) -> np.ndarray:
    """Running count, so that the count over [a, b) is out[b] - out[a]."""
    return np.concatenate([[0], np.cumsum(flags)])


def span_features(sentence: str, marks: np.ndarray, asked: AskedFor, candidates: list[tuple[int, int, int, int, int]]) -> np.ndarray:
    """One row per candidate span: its shape and word classes, where the question's words are
    around it, the words either side (hashed), and its shape crossed with the kinds asked for."""
    ws = words(sentence)
    start, end, a, b, clauses = (np.array(column) for column in zip(*candidates))
    tags = np.array([TAGS.index(w.tag) if w.tag in TAGS else len(TAGS) for w in ws])
    digits = _prefix(np.array([ch.isdigit() for ch in sentence]))
    contained = np.stack([_prefix(np.array([w.tag == t for w in ws])) for t in CONTAINED], axis=1)
    shape = np.hstack([
        ((digits[end] - digits[start]) > 0)[:, None],
        (contained[b] - contained[a]) > 0,
        _bin_rows(end - start, (2, 3, 4, 5, 7, 10, 15)),
    ]).astype(np.float64)
    marked = _prefix(marks)
    share = (marked[end] - marked[start]) / np.maximum(end - start, 1)
    positions = np.flatnonzero(marks)
    if len(positions):
        before = np.searchsorted(positions, start, side="left") - 1  # last mark before the span
        after = np.searchsorted(positions, end, side="left")  # first mark from its end on
        gap_before = np.where(before >= 0, start - positions[np.maximum(before, 0)] - 1, 99)
        gap_after = np.where(after < len(positions), positions[np.minimum(after, len(positions) - 1)] - end, 99)
    else:
        gap_before = gap_after = np.full(len(start), 99)
    boundary = np.array([True] + [w.text in CLAUSE_MARKS for w in ws] + [True])  # word i-1 closes a clause: boundary[i]
    texts = ["^", *(w.text for w in ws), "$", "$"]  # word i-1: texts[i]
    left = np.array([t in asked.before for t in texts])
    right = np.array([t in asked.after for t in texts])
    near = _prefix(np.concatenate([marks, np.zeros(WINDOW, dtype=bool)]))
    buckets = np.array([_bucket("^")] + [_bucket(w.text) for w in ws] + [_bucket("$")])  # word i-1's bucket: buckets[i]
    return np.hstack([
        shape,
        _bin_rows(b - a, (2, 3, 4)),
        _one_hot_rows(tags[a], len(TAGS) + 1),
        _one_hot_rows(tags[b - 1], len(TAGS) + 1),
        share[:, None],
        (share == 1.0)[:, None],
        _bin_rows(gap_before, (1, 2, 4, 8, 16, 98)),
        _bin_rows(gap_after, (1, 2, 4, 8, 16, 98)),
        boundary[a][:, None],
        boundary[b + 1][:, None],
        _bin_rows(clauses, (1, 2, 3)),  # within a clause, or how many whole clauses
        left[a][:, None],  # the question's words around its wh-word stand around the span
        (left[a] | left[np.maximum(a - 1, 0)])[:, None],
        right[b + 1][:, None],
        (right[b + 1] | right[b + 2])[:, None],
        ((near[start] - near[np.maximum(start - WINDOW, 0)]) / WINDOW)[:, None],  # the question's words close before ...
        ((near[end + WINDOW] - near[end]) / WINDOW)[:, None],  # ... and after
        (start / max(len(sentence), 1))[:, None],
        _one_hot_rows(buckets[a], NEIGHBOUR_BUCKETS),
        _one_hot_rows(buckets[b + 1], NEIGHBOUR_BUCKETS),
        _crossed(asked.kinds, shape[:, : 1 + len(CONTAINED)]),
        _crossed(asked.cues, np.hstack([shape[:, : 1 + len(CONTAINED)], _one_hot_rows(tags[a], len(TAGS) + 1)])),
    ])


def _crossed(question: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Each row's features times each of the question's: weights learned per pair."""
    return (question[None, :, None] * rows[:, None, :]).reshape(len(rows), -1)


def sentence_features(sentence: str, passage: str, question: Question, marks: np.ndarray, retrieval: list[float], hit_rank: int) -> list[float]:
    """One candidate sentence: how it and its passage were retrieved (`retrieval`: cosines,
    passage scores, term shares, from the reader), how much of the question it holds, and whether
    it carries the kind of value asked for."""
    coverage = 0.0
    if question.chinese and len(question.form) > 1:
        pairs = question_pairs(question.form)
        coverage = sum(p in sentence for p in pairs) / len(pairs)
    return [
        *retrieval,
        question.subject.support(sentence),
        question.subject.support(passage),
        float(marks.mean()) if len(marks) else 0.0,
        coverage,
        *_bins(fits(sentence, set(question.kinds)), (0.25, 0.75)),
        *_bins(len(sentence), (10, 20, 40, 80)),
        *_bins(hit_rank, (2, 3, 4)),
    ]


def span_summary(span_scores: np.ndarray) -> list[float]:
    """How good a sentence's best answer span looks, and how clearly it beats the others."""
    if not len(span_scores):
        return [-10.0, 0.0]
    best = float(span_scores.max())
    return [best, float(np.log(np.exp(span_scores - best).sum()))]


def with_language(rows: np.ndarray, english: bool) -> np.ndarray:
    """Every feature twice, the second copy only for English questions: English evidence reaches
    Chinese text through a map and a dictionary, and is weighed apart."""
    return np.hstack([rows, rows * float(english)])

"""Retrieval and answer metrics. Matching ignores whitespace and script (Traditional is folded to
Simplified), so a Traditional answer to a Simplified question still counts."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter

import numpy as np

from rag.evaluation.dataset import QAItem
from rag.ingest.script import t2s

CUTOFFS = (1, 3, 5, 10)
_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    return t2s(_SPACE.sub("", unicodedata.normalize("NFKC", text)).lower())


def is_relevant(item: QAItem, doc_id: str, folded_text: str) -> bool:
    """A chunk is relevant when it holds an evidence phrase, or (no evidence given) is from the gold doc."""
    if item.evidence:
        return any(fold(e) in folded_text for e in item.evidence)
    return item.doc is not None and doc_id == item.doc


def retrieval_metrics(relevance: list[bool], total_relevant: int) -> dict[str, float]:
    """Hit@k, MRR@10 and nDCG@10 (binary gains) for one ranked list."""
    out = {f"hit@{k}": float(any(relevance[:k])) for k in CUTOFFS}
    first = next((i for i, r in enumerate(relevance[:10]) if r), None)
    out["mrr@10"] = 0.0 if first is None else 1.0 / (first + 1)
    dcg = sum(1.0 / math.log2(i + 2) for i, r in enumerate(relevance[:10]) if r)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(max(total_relevant, 1), 10)))
    out["ndcg@10"] = dcg / ideal
    return out


def answer_correct(item: QAItem, answer: str | None) -> bool:
    return answer is not None and any(fold(a) in fold(answer) for a in item.answers)


def span_f1(prediction: str | None, answers: list[str]) -> float:
    """CMRC 2018's answer F1: characters in common with the best-matching gold answer, punctuation
    and spaces ignored (folded, so script and case do not count)."""
    if prediction is None or not answers:
        return 0.0
    predicted = _f1_chars(prediction)
    best = 0.0
    for answer in answers:
        gold = _f1_chars(answer)
        common = sum((Counter(predicted) & Counter(gold)).values())
        if common:
            precision, recall = common / len(predicted), common / len(gold)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def _f1_chars(text: str) -> list[str]:
    return [ch for ch in fold(text) if unicodedata.category(ch)[0] not in "PSZ"]


def summarize(rows: list[dict]) -> dict[str, float]:
    """Means over answerable rows, abstention precision/recall over all rows, latency percentiles."""
    answerable = [r for r in rows if r["answerable"]]
    out: dict[str, float] = {"questions": len(rows)}
    for key in [f"hit@{k}" for k in CUTOFFS] + ["mrr@10", "ndcg@10", "answer_accuracy", "span_f1"]:
        out[key] = float(np.mean([r.get(key, 0.0) for r in answerable])) if answerable else float("nan")
    abstained = [r for r in rows if r["abstained"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    true_abstain = sum(not r["answerable"] for r in abstained)
    out["abstain_precision"] = true_abstain / len(abstained) if abstained else float("nan")
    out["abstain_recall"] = true_abstain / len(unanswerable) if unanswerable else float("nan")
    latencies = [r["latency_ms"] for r in rows]
    out["latency_p50_ms"] = float(np.percentile(latencies, 50))
    out["latency_p95_ms"] = float(np.percentile(latencies, 95))
    return out

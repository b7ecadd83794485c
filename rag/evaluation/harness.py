"""BM25-only, dense-only and hybrid side by side on one QA set: per-question rows, then summaries
overall and per language, and the check against thresholds. A library: `rag eval` (rag/cli.py)
calls it and prints the report (rag/evaluation/report.py)."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from tqdm import tqdm

from rag.engine import Engine
from rag.evaluation.dataset import QAItem
from rag.evaluation.metrics import (
    CUTOFFS,
    answer_correct,
    fold,
    is_relevant,
    retrieval_metrics,
    span_f1,
    summarize,
)
from rag.results import AskResult
from rag.search.retriever import Method

logger = logging.getLogger(__name__)
SHIPPED = Method.HYBRID
DEPTH = max(CUTOFFS)  # citations asked for per question: the deepest cutoff measured
CITATION_MARK = re.compile(r"\s*\[\d+\]$")


def evaluate(engine: Engine, items: list[QAItem]) -> dict[str, Any]:
    """Per-question rows for every method, then summaries overall and per language."""
    relevant_counts = count_relevant(engine, items)
    engine.analyse("warm-up")  # load the model outside the timed loop
    methods = list(Method)
    rows: dict[str, list[dict[str, Any]]] = {m.value: [] for m in methods}
    for item, total_relevant in tqdm(list(zip(items, relevant_counts)), desc="eval", unit="q", disable=not logger.isEnabledFor(logging.INFO)):
        started = time.perf_counter()
        question = engine.analyse(item.question, DEPTH)
        analyse_ms = (time.perf_counter() - started) * 1000
        for method in methods:
            started = time.perf_counter()
            result = engine.answer(question, DEPTH, method)
            latency = analyse_ms + (time.perf_counter() - started) * 1000
            rows[method.value].append(score_row(item, result, total_relevant, latency))
    langs = sorted({i.lang for i in items})
    summary = {m: {"all": summarize(rows[m]), **{lang: summarize([r for r in rows[m] if r["lang"] == lang]) for lang in langs}} for m in rows}
    return {"methods": list(rows), "shipped": SHIPPED.value, "langs": langs, "summary": summary, "rows": rows, "settings": engine.settings.as_dict()}


def count_relevant(engine: Engine, items: list[QAItem]) -> list[int]:
    """How many chunks of the whole index are relevant to each question (the ideal for nDCG)."""
    folded = [(c.doc_id, fold(engine.index.documents[c.doc_id][c.start : c.end])) for c in engine.index.chunks]
    return [sum(is_relevant(item, d, t) for d, t in folded) if item.answerable else 0 for item in items]


def score_row(item: QAItem, result: AskResult, total_relevant: int, latency_ms: float) -> dict[str, Any]:
    passages = result.citations or result.closest_passages or []  # retrieval is scored whether or not it answers
    relevance = [is_relevant(item, c.doc_id, fold(c.text)) for c in passages]
    row: dict[str, Any] = {
        "id": item.id,
        "lang": item.lang,
        "question": item.question,
        "answerable": item.answerable,
        "answer": result.answer,
        "abstained": result.abstained,
        "answer_accuracy": float(answer_correct(item, result.answer)),
        "answer_span": result.answer_span.text if result.answer_span else None,
        "span_f1": span_f1(short_answer(result), item.answers),
        "latency_ms": latency_ms,
        "top_doc": passages[0].doc_id if passages else None,
        "evidence": result.evidence.model_dump() if result.evidence else None,
    }
    row.update(retrieval_metrics(relevance, total_relevant))
    return row


def short_answer(result: AskResult) -> str | None:
    """What the reader is told the answer is: the span, or else the quoted sentence."""
    if result.answer_span:
        return result.answer_span.text
    return CITATION_MARK.sub("", result.answer) if result.answer else None


def check_thresholds(report: dict[str, Any], thresholds: dict[str, Any]) -> list[str]:
    """Every `{scope: {metric: minimum}}` of the shipped method must be met (latencies: maximum)."""
    failures = []
    for scope, minimums in thresholds.get(report["shipped"], {}).items():
        measured = report["summary"][report["shipped"]].get(scope)
        if measured is None:
            failures.append(f"no questions for scope {scope!r}")
            continue
        for metric, minimum in minimums.items():
            value = measured[metric]
            if metric.startswith("latency"):
                if value > minimum:
                    failures.append(f"{scope} {metric} = {value:.1f} > {minimum}")
            elif not value >= minimum:
                failures.append(f"{scope} {metric} = {value:.3f} < {minimum}")
    return failures

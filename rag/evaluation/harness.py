"""`rag eval`: BM25-only, dense-only and hybrid side by side on one QA set, with thresholds."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tqdm import tqdm

from rag.evaluation.dataset import DatasetError, QAItem, load_qa
from rag.evaluation.metrics import (
    answer_correct,
    fold,
    is_relevant,
    retrieval_metrics,
    summarize,
)
from rag.evaluation.report import print_table, write_html
from rag.retrieval import METHODS
from rag.service import Engine

SHIPPED = "hybrid"
DEPTH = 10


def add_eval_command(commands, add_common) -> None:
    parser = commands.add_parser("eval", help="evaluate BM25, dense and hybrid retrieval and answers on a QA set")
    add_common(parser)
    parser.add_argument("qa_file", type=Path, help="QA set, one JSON object per line")
    parser.add_argument("--out", type=Path, default=Path("eval/reports"), help="folder for eval.json and report.html")
    parser.add_argument("--thresholds", type=Path, default=None, help="minimums for the shipped method (default: thresholds.json beside the QA file)")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting for an experiment (repeatable)")
    parser.set_defaults(run=run_eval)


def run_eval(args: argparse.Namespace) -> int:
    from rag.cli import open_engine

    try:
        items = load_qa(args.qa_file)
    except DatasetError as exc:
        print(f"rag: error: {exc}", file=sys.stderr)
        return 2
    engine = open_engine(args)
    report = evaluate(engine, items)
    report["qa_file"] = str(args.qa_file)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "eval.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
    write_html(report, args.out / "report.html")
    print_table(report)
    print(f"\nwrote {args.out / 'eval.json'} and {args.out / 'report.html'}")
    thresholds_file = args.thresholds or args.qa_file.parent / "thresholds.json"
    if not thresholds_file.exists():
        return 0
    failures = check_thresholds(report, json.loads(thresholds_file.read_text()))
    for failure in failures:
        print(f"THRESHOLD FAILED: {failure}", file=sys.stderr)
    print(f"thresholds ({thresholds_file}): {'FAILED' if failures else 'passed'}")
    return 1 if failures else 0


def evaluate(engine: Engine, items: list[QAItem]) -> dict:
    """Per-question rows for every method, then summaries overall and per language."""
    relevant_counts = count_relevant(engine, items)
    engine.retriever.prepare("warm-up")  # load the model outside the timed loop
    rows: dict[str, list[dict]] = {m: [] for m in METHODS}
    for item, total_relevant in tqdm(list(zip(items, relevant_counts)), desc="eval", unit="q", file=sys.stderr):
        started = time.perf_counter()
        prepared = engine.retriever.prepare(item.question)
        embed_ms = (time.perf_counter() - started) * 1000
        for method in METHODS:
            started = time.perf_counter()
            result = engine.ask_prepared(prepared, DEPTH, method)
            latency = embed_ms + (time.perf_counter() - started) * 1000
            rows[method].append(score_row(item, result, total_relevant, latency))
    langs = sorted({i.lang for i in items})
    summary = {
        m: {"all": summarize(rows[m]), **{lang: summarize([r for r in rows[m] if r["lang"] == lang]) for lang in langs}}
        for m in METHODS
    }
    return {"methods": list(METHODS), "shipped": SHIPPED, "langs": langs, "summary": summary, "rows": rows, "settings": engine.settings.as_dict()}


def count_relevant(engine: Engine, items: list[QAItem]) -> list[int]:
    """How many chunks of the whole index are relevant to each question (the ideal for nDCG)."""
    folded = [(c.doc_id, fold(engine.index.documents[c.doc_id][c.start : c.end])) for c in engine.index.chunks]
    return [sum(is_relevant(item, d, t) for d, t in folded) if item.answerable else 0 for item in items]


def score_row(item: QAItem, result: dict, total_relevant: int, latency_ms: float) -> dict:
    relevance = [is_relevant(item, c["doc_id"], fold(c["text"])) for c in result["citations"]]
    row = {
        "id": item.id,
        "lang": item.lang,
        "question": item.question,
        "answerable": item.answerable,
        "answer": result["answer"],
        "abstained": result["abstained"],
        "answer_accuracy": float(answer_correct(item, result["answer"])),
        "latency_ms": latency_ms,
        "top_doc": result["citations"][0]["doc_id"] if result["citations"] else None,
        "evidence": result.get("evidence"),
    }
    row.update(retrieval_metrics(relevance, total_relevant))
    return row


def check_thresholds(report: dict, thresholds: dict) -> list[str]:
    """Every `{scope: {metric: minimum}}` of the shipped method must be met."""
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

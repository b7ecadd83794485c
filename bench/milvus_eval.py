"""Does the Milvus store keep quality? `rag eval` on the dev set with the local store (FAISS + BM25),
with Milvus (our BM25 weights as sparse vectors: the shipped lexical side) and with Milvus's own BM25
function (its jieba analyzer, `milvus_lexical=native`); then with RRF fusion, done by us on Milvus's
rankings and by Milvus itself (`milvus_hybrid=true`: hybrid_search with RRFRanker). Each run builds
its index in a scratch folder (Milvus Lite inside it, as `milvus.db`), embeddings from the cache.

    python bench/milvus_eval.py [--qa eval/qa.jsonl] [--index DIR]

Prints markdown tables (method x language: Hit@1, MRR@10, answer accuracy, span F1, abstention
precision and recall), each Milvus variant beside the local store with its difference, and the
share of questions answered exactly as locally; writes bench/results/milvus_eval.{json,md}. The
bar (the issue's): every figure within 0.01 of the local store's.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TOLERANCE = 0.01
# variant -> `rag eval --set` overrides
VARIANTS = {
    "local": [],
    "milvus": ["store=milvus"],
    "milvus-native-bm25": ["store=milvus", "milvus_lexical=native"],
    "local-rrf": ["fusion=rrf"],
    "milvus-rrf": ["store=milvus", "fusion=rrf"],
    "milvus-engine-rrf": ["store=milvus", "fusion=rrf", "milvus_hybrid=true"],
}
COMPARISONS = {"local": ["milvus", "milvus-native-bm25"], "local-rrf": ["milvus-rrf", "milvus-engine-rrf"]}  # baseline -> variants beside it
FIGURES = {"hit@1": "Hit@1", "mrr@10": "MRR", "answer_accuracy": "answer acc.", "span_f1": "span F1", "abstain_precision": "abstain P", "abstain_recall": "abstain R"}


def run(qa: Path, index: Path, out: Path, overrides: list[str]) -> tuple[dict[str, Any], float]:
    """One `rag eval` (its threshold check may fail on a loaded machine: only eval.json counts)."""
    sets = [arg for pair in overrides for arg in ("--set", pair)]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "rag", "eval", str(qa), "--index", str(index), "--out", str(out), "-q", *sets], capture_output=True, text=True)
    if not (out / "eval.json").is_file():
        raise SystemExit(f"rag eval {' '.join(sets)} failed:\n{done.stderr}")
    return json.loads((out / "eval.json").read_text(encoding="utf-8")), time.perf_counter() - started


def same_answers(base: dict[str, Any], other: dict[str, Any]) -> float:
    """Share of (question, method) pairs answered with the same text, span and abstention."""
    pairs = [(a, b) for m in base["methods"] for a, b in zip(base["rows"][m], other["rows"][m])]
    return sum((a["answer"], a["answer_span"], a["abstained"]) == (b["answer"], b["answer_span"], b["abstained"]) for a, b in pairs) / len(pairs)


def table(reports: dict[str, dict[str, Any]], baseline: str, variants: list[str]) -> list[str]:
    base = reports[baseline]
    head = ["method", "language"] + [f"{label} {name}" for label in FIGURES.values() for name in (baseline, *variants)]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for method in base["methods"]:
        for scope in ["all", *base["langs"]]:
            cells = [method, scope]
            for key in FIGURES:
                value = base["summary"][method][scope][key]
                cells.append(f"{value:.3f}")
                cells += [f"{reports[v]['summary'][method][scope][key]:.3f} ({reports[v]['summary'][method][scope][key] - value:+.3f})" for v in variants]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def largest_gap(base: dict[str, Any], other: dict[str, Any]) -> float:
    return max(abs(other["summary"][m][s][k] - base["summary"][m][s][k]) for m in base["methods"] for s in ["all", *base["langs"]] for k in FIGURES)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qa", type=Path, default=ROOT / "eval" / "qa.jsonl")
    parser.add_argument("--index", type=Path, help="index folder for every run (default: a scratch folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-milvus-eval-") as scratch:
        index = args.index or Path(scratch) / "index"
        reports, seconds = {}, {}
        for name, overrides in VARIANTS.items():
            reports[name], seconds[name] = run(args.qa, index, Path(scratch) / name, overrides)
            print(f"{name}: {seconds[name]:.0f} s", file=sys.stderr)
    qa = args.qa.relative_to(ROOT) if args.qa.is_relative_to(ROOT) else args.qa
    timings = ", ".join(f"{name} {s:.0f} s" for name, s in seconds.items())
    lines = [f"# The Milvus store beside the local store: `rag eval {qa}`", "", f"`python bench/milvus_eval.py`; build + eval per variant: {timings}.", ""]
    summary: dict[str, Any] = {"tolerance": TOLERANCE, "variants": VARIANTS, "seconds": {k: round(v, 1) for k, v in seconds.items()}, "comparisons": {}}
    for baseline, variants in COMPARISONS.items():
        flags = "; ".join(f"{name}: `{' '.join('--set ' + pair for pair in VARIANTS[name]) or '(none)'}`" for name in (baseline, *variants))
        lines += [f"## {' and '.join(variants)} beside {baseline}", "", flags, "", *table(reports, baseline, variants), ""]
        for variant in variants:
            gap, same = largest_gap(reports[baseline], reports[variant]), same_answers(reports[baseline], reports[variant])
            verdict = "within" if gap <= TOLERANCE else "OUTSIDE"
            p50 = [reports[name]["summary"]["hybrid"]["all"]["latency_p50_ms"] for name in (baseline, variant)]
            lines.append(f"- {variant}: largest difference {gap:.3f} ({verdict} {TOLERANCE}); the same answer as {baseline} for {same:.1%} of question x method pairs;")
            lines.append(f"  hybrid p50 {p50[1]:.0f} ms a question against {p50[0]:.0f} ms")
            summary["comparisons"][variant] = {"baseline": baseline, "largest_difference": round(gap, 4), "within_tolerance": gap <= TOLERANCE, "same_answers": round(same, 4)}
        lines.append("")
    summary["summary"] = {name: report["summary"] for name, report in reports.items()}
    text = "\n".join(lines)
    print(text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "milvus_eval.md").write_text(text, encoding="utf-8")
    (RESULTS / "milvus_eval.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

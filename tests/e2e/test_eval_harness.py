"""The evaluation harness over a real engine: gold by document only, and the threshold gate."""

import json

from rag.evaluation.dataset import load_qa
from rag.evaluation.harness import check_thresholds, evaluate


def test_gold_by_document_only(engine, tmp_path):
    """External QA sets may name just the document: hits then count chunks from it."""
    path = tmp_path / "qa.jsonl"
    rows = [
        {"id": "a", "lang": "zh-Hans", "question": "长沙签约了多少个重点产业转移合作项目？", "answers": ["16个"], "doc": "001_e07e39b34995dd8d.txt"},
        {"id": "b", "lang": "en", "question": "What is Apple's market capitalisation?", "answerable": False},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    report = evaluate(engine, load_qa(path))
    hybrid = report["summary"]["hybrid"]
    assert hybrid["zh-Hans"]["hit@1"] == 1.0 and hybrid["zh-Hans"]["answer_accuracy"] == 1.0
    assert set(report["rows"]) == {"bm25", "dense", "hybrid"} and report["shipped"] == "hybrid"
    assert check_thresholds(report, {"hybrid": {"zh-Hans": {"hit@1": 0.9, "latency_p50_ms": 10_000}}}) == []
    failures = check_thresholds(report, {"hybrid": {"zh-Hans": {"latency_p50_ms": 0.001}, "fr": {"hit@1": 0.5}}})
    assert len(failures) == 2 and "latency_p50_ms" in failures[0] and "'fr'" in failures[1]

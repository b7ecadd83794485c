"""The evaluation library's arithmetic: metrics, matching, summaries and QA-file errors."""

import math

import pytest

from rag.evaluation.dataset import DatasetError, QAItem, load_qa
from rag.evaluation.metrics import answer_correct, is_relevant, retrieval_metrics, summarize


def test_retrieval_metrics_by_hand():
    m = retrieval_metrics([False, False, True, False, True], total_relevant=2)
    assert (m["hit@1"], m["hit@3"], m["hit@5"]) == (0.0, 1.0, 1.0)
    assert m["mrr@10"] == pytest.approx(1 / 3)
    ideal = 1 + 1 / math.log2(3)
    assert m["ndcg@10"] == pytest.approx((1 / math.log2(4) + 1 / math.log2(6)) / ideal)
    assert retrieval_metrics([False] * 10, 3)["mrr@10"] == 0.0


def test_matching_ignores_whitespace_and_script():
    item = QAItem("x", "zh-Hant", "?", answers=["16個"], evidence=["重點產業 轉移"])
    assert is_relevant(item, "a.txt", "16个重点产业转移合作项目")
    assert answer_correct(item, "开幕式上，16个重点项目 [1]") and not answer_correct(item, None)
    by_doc = QAItem("y", "en", "?", doc="b.txt")
    assert is_relevant(by_doc, "b.txt", "anything") and not is_relevant(by_doc, "a.txt", "anything")


def test_summary_separates_answerable_from_abstention():
    rows = [
        {"answerable": True, "abstained": False, "answer_accuracy": 1.0, "latency_ms": 10, **retrieval_metrics([True], 1)},
        {"answerable": True, "abstained": True, "answer_accuracy": 0.0, "latency_ms": 20, **retrieval_metrics([False], 1)},
        {"answerable": False, "abstained": True, "answer_accuracy": 0.0, "latency_ms": 30, **retrieval_metrics([], 0)},
        {"answerable": False, "abstained": False, "answer_accuracy": 0.0, "latency_ms": 40, **retrieval_metrics([], 0)},
    ]
    s = summarize(rows)
    assert s["hit@1"] == 0.5 and s["answer_accuracy"] == 0.5
    assert s["abstain_precision"] == 0.5 and s["abstain_recall"] == 0.5
    assert s["latency_p50_ms"] == 25


@pytest.mark.parametrize(
    "line, words",
    [
        ("not json", "not JSON"),
        ('{"id": 1}', "question"),
        ('{"question": "where?"}', "evidence' or 'doc"),
    ],
)
def test_bad_qa_lines_name_the_line(tmp_path, line, words):
    path = tmp_path / "qa.jsonl"
    path.write_text('{"question": "ok?", "doc": "a.txt"}\n' + line + "\n")
    with pytest.raises(DatasetError, match=words) as error:
        load_qa(path)
    assert "qa.jsonl:2" in str(error.value)

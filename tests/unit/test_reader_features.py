"""The reader's candidate spans and the answer metric, on plain strings (no model, no index)."""

from rag.answering.extract import Abstention
from rag.answering.features import CLAUSE_MARKS, MAX_SPAN_CHARS, span_candidates
from rag.answering.messages import abstain_message
from rag.evaluation.metrics import span_f1

SENTENCE = "长沙集中签约16个重点产业转移合作项目，总投资额达343.8亿元。"


def test_candidates_include_the_count_with_its_unit_and_never_cross_a_clause_mark():
    spans = {SENTENCE[a:b]: clauses for a, b, _, _, clauses in span_candidates(SENTENCE)}
    assert "16个" in spans and "343.8亿元" in spans
    short = [text for text, clauses in spans.items() if clauses == 0]
    assert all(len(t) <= MAX_SPAN_CHARS and not set(t) & CLAUSE_MARKS for t in short)


def test_whole_clauses_are_candidates_for_longer_answers():
    spans = {SENTENCE[a:b]: clauses for a, b, _, _, clauses in span_candidates(SENTENCE)}
    assert spans["长沙集中签约16个重点产业转移合作项目"] == 1
    assert spans["长沙集中签约16个重点产业转移合作项目，总投资额达343.8亿元"] == 2


def test_candidate_offsets_index_the_sentence():
    for a, b, first, last, _ in span_candidates(SENTENCE):
        assert 0 <= a < b <= len(SENTENCE) and first < last


def test_span_f1_counts_characters_in_common_ignoring_punctuation_and_script():
    assert span_f1("16个", ["16个"]) == 1.0
    assert span_f1("16個", ["16个"]) == 1.0  # Traditional against Simplified
    assert span_f1("16个项目", ["16个"]) == 2 * (3 / 5) * 1.0 / (3 / 5 + 1.0)
    assert span_f1("“16个。”", ["16个"]) == 1.0
    assert span_f1("343.8亿元", ["16个", "343.8亿元"]) == 1.0  # the best of several gold answers
    assert span_f1(None, ["16个"]) == 0.0 and span_f1("x", ["16个"]) == 0.0


def test_an_abstention_says_why_in_the_readers_script():
    assert "東京" in abstain_message("zh-Hant", Abstention.UNKNOWN_WORDS, ["東京"], [])
    assert '"fifa"' in abstain_message("en", Abstention.UNKNOWN_WORDS, [], ["fifa"])
    assert abstain_message("zh-Hans", Abstention.NO_VALUE, [], []) != abstain_message("zh-Hans", Abstention.WEAK, [], [])
    assert all(abstain_message(script, why, [], []) for why in Abstention for script in ("en", "zh-Hans", "zh-Hant"))

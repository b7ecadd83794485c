"""Answer-type detection and the term-support signal, on search forms of all three scripts."""

import pytest

from rag.answer_types import expected_types, fits
from rag.confidence import SubjectTerms, content_words
from rag.normalize import normalize_query


@pytest.mark.parametrize(
    "question, kind",
    [
        ("How many projects were signed in Changsha?", "count"),
        ("长沙签约了多少个项目？", "count"),
        ("港洽周什麼時候開幕？", "date"),
        ("When did the fair open?", "date"),
        ("惠科项目总金额是多少？", "money"),
        ("How much did HKC invest?", "money"),
        ("数字经济产值增长了多少？", "percent"),
    ],
)
def test_expected_types(question, kind):
    assert kind in expected_types(normalize_query(question))


def test_who_question_expects_no_number():
    assert expected_types(normalize_query("Who is the general manager of Bosch Changsha?")) == set()
    assert fits("博世长沙公司副总经理李永寿", set()) == 1.0


def test_a_count_is_not_a_date():
    kinds = expected_types(normalize_query("长沙签约了多少个项目？"))
    assert fits(normalize_query("16个重点产业转移合作项目现场签约。"), kinds) == 1.0
    assert fits(normalize_query("自2024年1月签约以来"), kinds) == 0.5
    assert fits(normalize_query("项目进展顺利"), kinds) == 0.0


def test_content_words_drop_question_framing():
    words = content_words(normalize_query("博世在長沙僱用了多少員工？"))
    assert "博世" in words and "长沙" in words and "多少" not in words


def test_term_support_is_the_share_of_subject_words_present():
    terms = SubjectTerms(normalize_query("长沙的人口是多少？"))
    assert terms.support("2004年，博世落户长沙。") == pytest.approx(0.5)
    assert terms.support("长沙常住人口超过一千万。") == 1.0


def test_term_support_weighs_rare_words_and_accepts_any_translation():
    rarity = {"长沙": 1.0, "人口": 3.0, "首都": 2.0, "省会": 2.0}.get
    terms = SubjectTerms(normalize_query("长沙的人口 capital"), {"capital": ["首都", "省会"]}, rarity)
    assert terms.support("长沙是湖南省会。") == pytest.approx(3.0 / 6.0)
    assert terms.support("人口") == pytest.approx(3.0 / 6.0)
    assert terms.support("省会长沙人口") == 1.0

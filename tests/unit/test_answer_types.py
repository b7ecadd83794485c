"""Answer-type detection and the term-support signal, on search forms of all three scripts."""

import pytest

from rag.analysis.kinds import expected_types, wants_value
from rag.analysis.subject import SubjectTerms, content_words, unknown_names, unmatched_words
from rag.answering.fit import fits
from rag.ingest.normalize import normalize_query


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
        ("How much tax revenue will the project bring in?", "money"),
        ("Who is the general manager of Bosch Changsha?", "person"),
        ("Which Hunan vice governor spoke at the fair?", "person"),
        ("博世長沙公司的副總經理是誰？", "person"),
        ("How long did the panel project take to start production?", "duration"),
        ("By how much has the platform sped up the delivery of funds?", "percent"),
        ("惠企资金直达效率提升了多少？", "percent"),
        ("How many people are expected to attend the event?", "headcount"),
        ("博世长沙工厂有多少名员工？", "headcount"),
        ("Roughly how many times larger are its sales than at first?", "percent"),
    ],
)
def test_expected_types(question, kind):
    assert kind in expected_types(normalize_query(question))


def test_a_what_question_expects_nothing_in_particular():
    assert expected_types(normalize_query("What is the capital of Hunan?")) == set()
    assert fits("长沙是湖南省会。", set()) == 1.0


def test_a_who_question_wants_a_named_person():
    kinds = expected_types(normalize_query("Who is the general manager of Bosch Changsha?"))
    assert fits(normalize_query("博世长沙公司副总经理李永寿介绍"), kinds) == 1.0  # title then name
    assert fits(normalize_query("王卫安表示，湖南将继续优化营商环境。"), kinds) == 1.0  # a name alone
    assert fits(normalize_query("湖南—香港投融资对接洽谈会5月14日在香港举行。"), kinds) == 0.0


def test_a_named_amount_is_money_and_a_bare_how_much_is_money_a_measure_or_a_share():
    assert expected_types(normalize_query("How much tax revenue a year?")) == {"money"}
    assert expected_types(normalize_query("How much land does the park cover?")) == {"money", "measure", "percent"}
    assert "percent" in expected_types(normalize_query("How much did exports to ASEAN grow?"))
    assert "money" not in expected_types(normalize_query("南岳产业园每年接待多少游客？"))


def test_a_which_question_asks_for_a_thing_not_for_the_amounts_it_mentions():
    assert expected_types(normalize_query("Which accounting firm found the lowest operating costs?")) == set()
    assert expected_types(normalize_query("哪家企业的投资额最高？")) == set()
    assert expected_types(normalize_query("Which company invested how much in Hengyang?")) == {"money"}
    assert expected_types(normalize_query("In which year did Bosch come to Changsha?")) == {"date"}


def test_a_count_of_people_needs_people_counted_not_firms():
    kinds = expected_types(normalize_query("How many workers are employed at the textile base?"))
    assert kinds == {"headcount"}
    assert fits(normalize_query("预计1500人参加本次活动。"), kinds) == 1.0
    assert fits(normalize_query("常宁纺织基地承接大湾区72家服装企业。"), kinds) == 0.5  # a number, but firms
    assert expected_types(normalize_query("How many companies signed?")) == {"count"}
    assert "headcount" not in expected_types(normalize_query("惠科投资了多少人民币？"))  # yuan, not people
    assert fits(normalize_query("项目总投资5亿人民币。"), kinds) == 0.5
    assert "headcount" not in expected_types(normalize_query("湖南排名全国第几位？"))  # a rank, not people


def test_a_lone_yi_is_an_article_and_a_year_has_four_digits():
    count = expected_types(normalize_query("利亚德项目能提供多少个就业岗位？"))
    assert fits(normalize_query("目前已有一批意向项目正在加紧推进。"), count) == 0.5  # "a batch", not a count
    assert fits(normalize_query("项目将提供二十个就业岗位。"), count) == 1.0
    date = expected_types(normalize_query("惠科项目计划什么时候投产？"))
    assert fits(normalize_query("入湘6年的惠科再次投资湖南。"), date) == 0.5  # six years: a duration
    assert fits(normalize_query("项目于2025年投产。"), date) == 1.0


def test_a_count_is_not_a_date():
    kinds = expected_types(normalize_query("长沙签约了多少个项目？"))
    assert fits(normalize_query("16个重点产业转移合作项目现场签约。"), kinds) == 1.0
    assert fits(normalize_query("自2024年1月签约以来"), kinds) == 0.5
    assert fits(normalize_query("项目进展顺利"), kinds) == 0.0
    assert fits(normalize_query("形成10大物流园"), kinds) == 1.0  # "10 major parks"


def test_durations_and_multiples_are_values():
    assert fits(normalize_query("项目仅用14个月便实现投产"), expected_types("how long did it take?")) == 1.0
    assert fits(normalize_query("员工人数增长了10倍"), expected_types(normalize_query("员工人数增长了多少倍？"))) == 1.0
    assert wants_value({"duration"}) and not wants_value({"person"}) and not wants_value(set())


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


def test_unknown_names_are_the_places_people_and_latin_words_the_index_lacks():
    form = normalize_query("東京和長沙的GDP是多少？")
    assert unknown_names(form, lambda word: word == "长沙") == ("东京", "gdp")
    assert unknown_names(form, lambda word: True) == ()
    assert unknown_names(normalize_query("产业转移的意义是什么？"), lambda word: False) == ()  # no names at all


def test_unmatched_words_are_subject_words_neither_translated_nor_indexed():
    form = normalize_query("Who won the 2022 FIFA World Cup?")
    words, share = unmatched_words(SubjectTerms(form, {"world": ["世界"]}), lambda word: word == "2024")
    assert words == ("won", "2022", "fifa", "cup") and share == 0.8
    assert unmatched_words(SubjectTerms(form), lambda word: True) == ((), 0.0)

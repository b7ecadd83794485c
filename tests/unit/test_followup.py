"""Follow-up questions (rag/analysis/followup.py): an elliptical question takes the rest of its
meaning from the previous one; a question that stands alone is asked as typed."""

import pytest

from rag.analysis.followup import follow_up_fragment, standalone_question


@pytest.mark.parametrize(
    ("conversation", "resolved"),
    [
        (["How many projects were signed in Changsha?", "and in Hengyang?"], "How many projects were signed in Hengyang?"),
        (["How many projects were signed in Changsha?", "What about Hengyang?"], "How many projects were signed in Hengyang?"),
        (["How much did HKC invest in 2024?", "And in 2023?"], "How much did HKC invest in 2023?"),
        (["How many projects were signed in Korla on November 8?", "And in Haikou?"], "How many projects were signed in Haikou on November 8?"),
        (["Which university did Geely sign with?", "and HKC?"], "Which university did HKC sign with?"),
        (["What is the total investment?", "and in Hengyang?"], "What is the total investment in Hengyang?"),  # nothing to replace: added
        (["How many projects did Hunan's chains bring in during 2024?", "And Hengyang?"], "How many projects did Hengyang's chains bring in during 2024?"),  # a name for a name
        (["長沙簽約了多少個重點產業轉移合作項目？", "衡陽呢？"], "衡陽簽約了多少個重點產業轉移合作項目？"),
        (["长沙签约了多少个项目？", "那衡阳呢"], "衡阳签约了多少个项目？"),
        (["2024年衡阳引进了多少个项目？", "2023年呢？"], "2023年衡阳引进了多少个项目？"),
        (["How many projects were signed in Changsha?", "and in Hengyang?", "what about Yueyang?"], "How many projects were signed in Yueyang?"),  # a chain
    ],
)
def test_follow_ups_are_resolved_against_the_previous_question(conversation, resolved):
    assert standalone_question(conversation) == resolved


@pytest.mark.parametrize(
    "question",
    [
        "And how many were signed in Hengyang?",  # it asks on its own
        "衡阳签约了多少个项目呢？",
        "长沙有项目吗？",
        "How many projects were signed in Changsha?",
        "What about the investment climate in Hunan compared with the coastal provinces last year?",  # too long to be elliptical
    ],
)
def test_questions_that_stand_alone_are_asked_as_typed(question):
    assert follow_up_fragment(question) is None
    assert standalone_question(["长沙签约了多少个项目？", question]) == question


def test_a_first_question_is_never_rewritten():
    assert standalone_question(["and in Hengyang?"]) == "and in Hengyang?"

"""The one validation of a question, for every interface."""

import pytest

from rag.analysis.question import QuestionError, validate_question
from rag.settings import MAX_K, MAX_QUESTION_CHARS


def test_a_question_is_stripped_of_invisible_characters():
    assert validate_question("  长沙\u200b签约了\x00多少个项目？\u2028 ", 5) == "长沙签约了多少个项目？"
    assert validate_question("How many?", 1) == "How many?"


@pytest.mark.parametrize(
    "text, k, words",
    [
        ("", 5, "empty"),
        ("   \n", 5, "empty"),
        (None, 5, "empty"),
        ("？？？", 5, "no words"),
        ("...!!", 5, "no words"),
        ("\u200b\u200c\ufeff", 5, "no words"),
        ("\x00\x01", 5, "no words"),
        ("a" * (MAX_QUESTION_CHARS + 1), 5, f"at most {MAX_QUESTION_CHARS}"),
        ("ok?", 0, f"from 1 to {MAX_K}"),
        ("ok?", MAX_K + 1, f"from 1 to {MAX_K}"),
    ],
)
def test_questions_that_cannot_be_served(text, k, words):
    with pytest.raises(QuestionError, match=words):
        validate_question(text, k)

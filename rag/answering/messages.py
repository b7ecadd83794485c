"""What an abstention tells the reader, in the reader's script: why there is no answer."""

from __future__ import annotations

from rag.answering.extract import Abstention
from rag.ingest.script import EN, HANS, HANT

REASONS = {
    Abstention.NOTHING_FOUND: {
        EN: "The corpus holds no passage to answer this question from.",
        HANS: "语料中没有可以回答这个问题的段落。",
        HANT: "語料中沒有可以回答這個問題的段落。",
    },
    Abstention.NO_SUBJECT: {
        EN: "The question names nothing to look for.",
        HANS: "问题中没有可以查找的内容。",
        HANT: "問題中沒有可以查找的內容。",
    },
    Abstention.NO_VALUE: {
        EN: "No passage found states the kind of value asked for.",
        HANS: "找到的段落中没有所问的数值或日期。",
        HANT: "找到的段落中沒有所問的數值或日期。",
    },
    Abstention.WEAK: {
        EN: "The closest passages do not answer this question.",
        HANS: "最相关的段落没有回答这个问题。",
        HANT: "最相關的段落沒有回答這個問題。",
    },
}
REASONS[Abstention.UNKNOWN_WORDS] = REASONS[Abstention.WEAK]  # said with the names or words it lacks
UNKNOWN_NAMES = {HANS: "语料中没有提到{}。", HANT: "語料中沒有提到{}。"}  # names are checked for Chinese questions only
UNMATCHED_WORDS = "The corpus never mentions {}."  # subject words are checked for English questions only


def abstain_message(script: str, why: Abstention, unknown_names: list[str], unmatched_words: list[str]) -> str:
    """Why there is no answer: the names or words of the question the corpus never mentions,
    or else the reason the answer was withheld."""
    if why is Abstention.UNKNOWN_WORDS and unknown_names and script in UNKNOWN_NAMES:
        return UNKNOWN_NAMES[script].format("、".join(unknown_names))
    if why is Abstention.UNKNOWN_WORDS and unmatched_words and script == EN:
        return UNMATCHED_WORDS.format(", ".join(f'"{w}"' for w in unmatched_words)) + " " + REASONS[why][script]
    return REASONS[why][script]

"""What an abstention tells the reader, in the reader's script."""

from __future__ import annotations

from rag.ingest.script import EN, HANS, HANT

ABSTAIN_MESSAGE = {
    EN: "The corpus does not contain enough evidence to answer this question.",
    HANS: "语料中没有足够的证据回答这个问题。",
    HANT: "語料中沒有足夠的證據回答這個問題。",
}
UNKNOWN_MESSAGE = {HANS: "语料中没有提到{}。", HANT: "語料中沒有提到{}。"}  # names are checked for Chinese questions only


def abstain_message(script: str, unknown_names: list[str]) -> str:
    """Why there is no answer: the names the corpus never mentions, when there are any."""
    if unknown_names:
        return UNKNOWN_MESSAGE[script].format("、".join(unknown_names))
    return ABSTAIN_MESSAGE[script]

"""Follow-up questions in a conversation: "and in Hengyang?" after "How many projects were signed in
Changsha?" is asked as "How many projects were signed in Hengyang?".

A follow-up is an elliptical question: a short one that opens with "and" / "what about" / 那 / 还有,
or a short Chinese one that ends in 呢. What it names replaces the thing of the same kind in the
previous (already resolved) question: the object of the same preposition or the last name in
English; a number or date, or else a word of the same part of speech (place, person, organisation,
time word), in Chinese. When the previous question holds nothing of that kind, the fragment is added
to it (at the end in English, at the start in Chinese), so that retrieval still sees both. Anything
else is asked as it stands.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.ingest.script import HAN_CHAR, t2s
from rag.ingest.tokenization import jieba_module

MAX_FOLLOW_UP_WORDS = 8  # "and what about the one in Hengyang last year?" is about as long as they come
MAX_FOLLOW_UP_HAN = 14  # 那么在衡阳签约了多少呢 is 11
NAME_KINDS = ("ns", "nr", "nt", "nz", "t")  # jieba's place, person, organisation, other name, time word (not "m": 多少 is one)

_EN_OPENER = re.compile(r"^(?:and|but|also|so)?\s*(?:what|how)\s+about\b|^(?:and|also)\b", re.IGNORECASE)
_ZH_OPENER = re.compile(r"^(?:那么|那麼|那|还有|還有|另外|以及)")
_ZH_CLOSER = re.compile(r"(?:的呢|呢)$")
_ZH_ASKS = re.compile(r"多少|几|幾|什么|什麼|哪|谁|誰|何|怎|吗|嗎")  # a fragment that asks is a question of its own
_EN_ASKS = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how|is|are|was|were|did|does|do)\b", re.IGNORECASE)
_PUNCTUATION = re.compile(r"[\s?？!！。.,，、:：;；]+")
_PREPOSITION = re.compile(r"^(in|at|for|from|of|on|by|during|with|about|to)\s+(.+)$", re.IGNORECASE)
_NUMBER = re.compile(r"\d[\d.,]*\s*(?:年|月|日|号|號)?")
_EN_NAME = re.compile(r"(?:[A-Z][\w'-]*|\d[\d,.]*)(?:\s+(?:[A-Z][\w'-]*|\d[\d,.]*))*")


def standalone_question(questions: list[str]) -> str:
    """The last of a conversation's user `questions`, with each follow-up resolved in turn."""
    resolved = ""
    for question in questions:
        resolved = resolve(resolved, question) if resolved else question
    return resolved


def resolve(previous: str, question: str) -> str:
    """`question` as a standalone question, given the `previous` one."""
    fragment = follow_up_fragment(question)
    if fragment is None:
        return question
    if HAN_CHAR.search(fragment) or HAN_CHAR.search(previous):
        return _replace_chinese(previous, fragment)
    return _replace_english(previous, fragment)


def follow_up_fragment(question: str) -> str | None:
    """What a follow-up names ("in Hengyang", "衡阳"), or None when `question` stands alone."""
    text = question.strip()
    if HAN_CHAR.search(text):
        core = _PUNCTUATION.sub("", text)
        opened, closed = _ZH_OPENER.match(core), _ZH_CLOSER.search(core)
        if not (opened or closed) or len(core) > MAX_FOLLOW_UP_HAN:
            return None
        core = _ZH_CLOSER.sub("", _ZH_OPENER.sub("", core))
        return core if core and not _ZH_ASKS.search(core) else None
    words = _PUNCTUATION.sub(" ", text).split()
    opener = _EN_OPENER.match(" ".join(words))
    if not opener or len(words) > MAX_FOLLOW_UP_WORDS:
        return None
    rest = " ".join(words)[opener.end() :].strip()
    rest = re.sub(r"^(?:the one|the ones|those|that)\s+", "", rest, flags=re.IGNORECASE)
    return rest if rest and not _EN_ASKS.search(rest) else None


def _replace_english(previous: str, fragment: str) -> str:
    """The object of the same preposition, else the last name, of the same kind (a number for a
    number, a name for a name; a possessive keeps its 's)."""
    preposition = _PREPOSITION.match(fragment)
    named = preposition.group(2) if preposition else fragment
    slots = [m.span(1) for m in re.finditer(rf"\b(?i:{preposition.group(1)})\s+(?:(?i:the)\s+)?({_EN_NAME.pattern})", previous)] if preposition else []
    slots = slots or [m.span() for m in _EN_NAME.finditer(previous) if m.start() > 0]  # not the capital that opens the question
    slots = [(a, b) for a, b in slots if previous[a].isdigit() == named[0].isdigit()]
    if not slots:
        return f"{previous.rstrip(' ?？.')} {fragment}?"
    start, end = slots[-1]
    if previous[start:end].endswith("'s") and not named.endswith("'s"):
        end -= 2
    return previous[:start] + named + previous[end:]


def _replace_chinese(previous: str, fragment: str) -> str:
    if _NUMBER.fullmatch(fragment):  # 2023年呢？ after 2024年…
        number = _NUMBER.search(previous)
        return previous[: number.start()] + fragment + previous[number.end() :] if number else f"{fragment} {previous}"
    named = _tagged(t2s(fragment))
    kinds = [kind for _, kind in named if kind in NAME_KINDS] or list(NAME_KINDS)
    simplified = t2s(previous)
    if len(simplified) == len(previous):  # positions carry over: tag the Simplified form, edit the original
        for kind in kinds:
            position = 0
            for word, tag in _tagged(simplified):
                if tag == kind:
                    return previous[:position] + fragment + previous[position + len(word) :]
                position += len(word)
    return f"{fragment} {previous}"


@lru_cache(maxsize=256)
def _tagged(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((pair.word, pair.flag) for pair in jieba_module().posseg.cut(text, HMM=False))

"""Does a sentence carry the kind of answer its question expects (rag/analysis/kinds.py)?

Patterns run on search forms (lower case, Simplified), so one set serves every script.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.analysis.kinds import CLASSIFIER, COUNT, DIGITS, PEOPLE, SCALE, YEAR
from rag.ingest.script import HAN
from rag.ingest.tokenization import jieba_module

ANSWER_PATTERNS = {
    "percent": rf"{DIGITS}\s*(?:%|％|个百分点|成|倍)|百分之|分之|\d\s*/\s*\d",
    "date": rf"{YEAR}|{DIGITS}\s*(?:月|日|号)|\b(?:19|20)\d\d\b|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d",
    "money": rf"{DIGITS}\s*(?:多)?(?:亿|万)?(?:美元|港元|元|欧元)|(?:\$|¥|￥|rmb|usd|hk\$)\s*\d|{DIGITS}\s*(?:billion|million) (?:yuan|dollars|usd)",
    "count": rf"{COUNT}{SCALE}{CLASSIFIER}|\d+\s+[a-z]",
    "headcount": rf"{COUNT}{SCALE}(?:人(?!民币)|名|位)|\d+\s+(?:{PEOPLE})",
    "measure": rf"{DIGITS}{SCALE}(?:平方米|平方公里|亩|吨|公里|米|千瓦|兆瓦|瓦|立方米|km|m2|tons?)",
    "duration": rf"{DIGITS}{SCALE}(?:个月|个多月|年|天|小时|周|分钟)",
}
# a title then a name ("厅长王卫安"), the way Chinese news introduces people
TITLED_NAME = re.compile(f"(?:长|书记|主任|总裁|经理|董事|主席|委员|教授|院士|专家|创始人|负责人|代表|总监|秘书)[{HAN}]{{2,3}}")
_ANSWER = {kind: re.compile(p) for kind, p in ANSWER_PATTERNS.items()}
ANY_NUMBER = re.compile(DIGITS)


def fits(sentence_form: str, kinds: set[str]) -> float:
    """1 when the sentence carries an answer of an expected kind, 0.5 for a bare number (0 for a
    who-question), else 0; always 1 for questions that expect nothing in particular."""
    if not kinds:
        return 1.0
    if any(_carries(kind, sentence_form) for kind in kinds):
        return 1.0
    if kinds == {"person"}:
        return 0.0
    return 0.5 if ANY_NUMBER.search(sentence_form) else 0.0


def _carries(kind: str, sentence_form: str) -> bool:
    if kind == "person":
        return bool(TITLED_NAME.search(sentence_form)) or _names_person(sentence_form)
    return bool(_ANSWER[kind].search(sentence_form))


@lru_cache(maxsize=4096)
def _names_person(sentence_form: str) -> bool:
    """jieba's part-of-speech tagger finds a personal name (tag nr) in the sentence."""
    tagger = jieba_module().posseg
    return any(pair.flag == "nr" and 2 <= len(pair.word) <= 4 for pair in tagger.cut(sentence_form))

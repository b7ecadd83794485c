"""What kind of answer a question expects, and whether a sentence carries one.

"How many projects…" wants a count ("16个项目"), not any sentence with a digit in it (a date),
and "how many workers…" a count of people ("1500人"), not of firms ("72家");
"when…" wants a date; "how much…" an amount of money, a measure or a share; "how long…" a
duration; "who…" a person's name. Patterns run on search forms (lower case, Simplified), so one
set serves English, Simplified and Traditional questions.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.lexical.tokenization import jieba_module

PERSON_NOUNS = (
    "governor|minister|mayor|official|director|chairman|chairwoman|president|vice[- ]president|head|secretary|"
    "leader|professor|academician|founder|executive|ceo|expert|spokesperson|manager|person|scholar|economist"
)
# who a how-many question counts when it counts people: the answer then counts them too ("1500人"), not firms
PEOPLE = "people|persons|workers|employees|staff|visitors|tourists|residents|students|talents|participants|attendees|guests|delegates|experts|entrepreneurs"
DIGITS = r"(?:\d[\d,.]*|[一二两三四五六七八九十百千万亿]+)"
# a count is not a lone 一, which is mostly the article "a" ("一批意向项目", "一名工人")
COUNT = r"(?:\d[\d,.]*|[一二两三四五六七八九十百千万亿]{2,}|[二两三四五六七八九十])"
# a year has four digits: "6年" is a duration ("入湘6年"), "2025年" a date
YEAR = r"(?:\d{4}|[〇零一二三四五六七八九]{4})\s*年"
# measure words that follow a count ("16个项目", "150万副", "2180列", "10大物流园"); a count question names one
CLASSIFIERS = "大个家项名座条所位批场种台辆户人次件款届只艘架类支期栋副列张部块套双头本份段颗篇根例趟班轮枚幅株棵"
CLASSIFIER = f"[{CLASSIFIERS}]"
SCALE = r"\s*(?:多|余)?(?:万|亿)?"  # between a number and its unit: "300多万人", "2万余吨"

QUESTION_PATTERNS = {
    "percent": r"percent|percentage|proportion|what share|growth rate|by how much|how many times|百分|比例|占比|比重|增速|增幅|同比|"
    r"(?:增长|提升|提高|下降|降低|减少)了?多少|多少倍|几倍",
    "date": r"\bwhen\b|what (?:year|date|month|day|time)|which (?:year|date|month|day)|in what year|"
    r"什么时候|何时|哪一?年|哪一?天|哪月|几月|几号|哪日|日期|时间是",
    "money": r"how much money|investment|invest|worth|cost|revenue|\btax|sales|turnover|"
    r"profit|budget|subsid|\bfund|"
    r"金额|多少钱|投资(?:了|额|总额)?(?:达到?|为|是)?多少|资金|产值|营收|收入多少|规模多大|多少亿|多少万",
    "count": rf"how many|number of|多少{CLASSIFIER}|几{CLASSIFIER}|数量|数目",
    "measure": r"how (?:large|big|long|far|tall|high|many square)|多大|多长|多高|多远|多少平方|面积|多少吨|多少公里|规模",
    "duration": r"how long|多久|多长时间|几年|几个月|几天",
    "headcount": rf"(?:how many|number of) (?:[a-z-]+ ){{0,2}}(?:{PEOPLE})\b|(?:多少|(?<!第)几)(?:名|位|人(?!民币))|多少(?:[\u4e00-\u9fff]{{0,2}})(?:员工|工人|职工|游客|人员|人才|学生|居民)",
    "person": rf"\bwho\b|\bwhom\b|(?:which|what) (?:[a-z-]+ ){{0,3}}(?:{PERSON_NOUNS})\b|谁|哪位|什么人|何人",
}
VAGUE_AMOUNT = re.compile(r"how much")  # money, a measure or a share, when the question names none
# "Which firm's report found the lowest costs?" asks for a firm: its money, count or share words
# are its subject, not what it asks for (a "which year" question still wants a date)
ENTITY_QUESTION = re.compile(r"\bwhich\b|\bwho\b|\bwhom\b|哪(?:家|个|位|座|所|些|里|儿)|谁")
QUANTITY_ASKED = re.compile(r"how (?:much|many)|多少|几")
AMOUNTS = {"money", "count", "headcount", "measure", "percent"}
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
TITLED_NAME = re.compile(r"(?:长|书记|主任|总裁|经理|董事|主席|委员|教授|院士|专家|创始人|负责人|代表|总监|秘书)[\u4e00-\u9fff]{2,3}")
_QUESTION = {kind: re.compile(p) for kind, p in QUESTION_PATTERNS.items()}
_ANSWER = {kind: re.compile(p) for kind, p in ANSWER_PATTERNS.items()}
ANY_NUMBER = re.compile(DIGITS)


def expected_types(question_form: str) -> set[str]:
    """Answer kinds the question asks for; empty for what/why questions."""
    kinds = {kind for kind, pattern in _QUESTION.items() if pattern.search(question_form)}
    if ENTITY_QUESTION.search(question_form) and not QUANTITY_ASKED.search(question_form):
        kinds -= AMOUNTS
    if "headcount" in kinds:
        kinds.discard("count")
    if not kinds & AMOUNTS and VAGUE_AMOUNT.search(question_form):
        kinds |= {"money", "measure", "percent"}
    return kinds


def wants_value(kinds: set[str]) -> bool:
    """Does the question ask for a number, an amount, a date or a duration? Then a passage without
    one cannot answer it (a who-question may be answered by an office or a company: not held to this)."""
    return bool(kinds - {"person"})


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

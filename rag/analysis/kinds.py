"""What kind of answer a question expects (whether a sentence carries one: rag/answering/fit.py).

"How many projects…" wants a count ("16个项目"), not any sentence with a digit in it (a date),
and "how many workers…" a count of people ("1500人"), not of firms ("72家");
"when…" wants a date; "how much…" an amount of money, a measure or a share; "how long…" a
duration; "who…" a person's name. Patterns run on search forms (lower case, Simplified), so one
set serves English, Simplified and Traditional questions.
"""

from __future__ import annotations

import re

from rag.ingest.script import HAN

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
    "headcount": rf"(?:how many|number of) (?:[a-z-]+ ){{0,2}}(?:{PEOPLE})\b|(?:多少|(?<!第)几)(?:名|位|人(?!民币))|多少(?:[{HAN}]{{0,2}})(?:员工|工人|职工|游客|人员|人才|学生|居民)",
    "person": rf"\bwho\b|\bwhom\b|(?:which|what) (?:[a-z-]+ ){{0,3}}(?:{PERSON_NOUNS})\b|谁|哪位|什么人|何人",
}
VAGUE_AMOUNT = re.compile(r"how much")  # money, a measure or a share, when the question names none
# "Which firm's report found the lowest costs?" asks for a firm: its money, count or share words
# are its subject, not what it asks for (a "which year" question still wants a date)
ENTITY_QUESTION = re.compile(r"\bwhich\b|\bwho\b|\bwhom\b|哪(?:家|个|位|座|所|些|里|儿)|谁")
QUANTITY_ASKED = re.compile(r"how (?:much|many)|多少|几")
AMOUNTS = {"money", "count", "headcount", "measure", "percent"}
_QUESTION = {kind: re.compile(p) for kind, p in QUESTION_PATTERNS.items()}


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

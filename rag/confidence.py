"""Is the evidence strong enough to answer? Two signals, thresholds chosen on the dev set.

- Dense standout: how far the best cosine rises above this query's cosine with typical passages
  (a z-score against a fixed sample of the index). Raw cosines are not comparable across queries:
  an English question scores ~0.1 lower against Chinese text than a Chinese one does.
- Term support, for Chinese questions: the idf-weighted share of the question's content words that
  the cited passage actually contains. Zero means the passage shares no subject with the question,
  however close its vector. English questions reach Chinese words only through the dictionary
  bridge, whose sense choice is too rough to judge by (`capacity` -> 潜力), so a low share does
  not make them abstain.
- Either way, a passage holding most of the question's subject words (`abstain_support_override`)
  answers even when its vector does not stand out: found words are firm evidence, missing ones
  are not (an English word may have been bridged to the wrong sense). An English question's
  vector stands out less against Chinese text anyway, so it abstains on that ground only when
  one of its subject words also reaches nothing in the corpus ("population", "Paris"), and even
  then answers when the sentence carries the count, amount or date asked for and the passage
  holds some of the subject (`abstain_support`): the dictionary lacks many words ("subsidy" for
  奖补, "delivery" for 直达), and a value of the asked-for kind beside the subject is evidence too.
- Unknown names, for Chinese questions: a place, person, organisation or Latin word of the question
  that no indexed passage contains ("东京", "GDP") means the corpus cannot answer it, however
  well the rest matches. English names reach the corpus only through a dictionary or a
  transliteration, and the corpus may spell them another way ("Yangtze River" is 长江, which the
  dictionary glosses otherwise), so their absence proves too little (tried: it declined 3 of 36
  answerable held-out questions).
- Unmatched words, for English questions: when at least half of the subject words reach nothing in
  the corpus (no translation it uses, no pinyin name, not indexed as written: "won", "FIFA",
  "cup", "2022"), the question is about something else. One missing word proves little (the
  dictionary lacks many), a majority does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

import numpy as np

from rag.lexical.bridge import STOPWORDS
from rag.lexical.tokenization import jieba_module

BACKGROUND_SAMPLE = 2048
# Words that frame a question rather than name its subject (search form: lower case, Simplified).
# The bridge's English function words are among them: a word it never translates is no subject
# word either, or every English question would hold "unmatched" words.
QUESTION_WORDS = STOPWORDS | frozenset(
    "多少 多少钱 几个 哪些 哪个 哪家 哪位 哪里 哪儿 哪一年 什么 什么样 什么时候 时候 何时 为何 如何 怎么 怎样 为什么 "
    "请问 是否 一共 总共 共有 大约 分别 主要 是什么 有没有 可以 能够 哪座 哪项 多大 多长 多高 多久 之一 "
    "about long their according".split()
)
LATIN_OR_NUMBER = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")


@dataclass
class Evidence:
    standout: float  # z-score of the best cosine against the background sample
    support: float  # weighted share of the question's subject words in the cited passage
    by_terms: bool  # is support trustworthy? Not for English: its words reach Chinese only by dictionary
    unknown: tuple[str, ...] = ()  # names of the question no passage contains (Chinese questions)
    unmatched: tuple[str, ...] = ()  # subject words that reach no corpus word (English questions)
    unmatched_share: float = 0.0  # their share of the subject words


def content_words(form: str) -> list[str]:
    """Subject words of a question in search form: jieba words of two or more characters and
    Latin words or numbers, minus question words."""
    words = []
    for word in jieba_module().lcut(form):
        word = word.strip()
        if word in QUESTION_WORDS or len(word) < 2:
            continue
        if LATIN_OR_NUMBER.fullmatch(word) or all(_is_cjk(ch) for ch in word):
            words.append(word)
    return list(dict.fromkeys(words))


NAME_TAGS = frozenset({"ns", "nr", "nt", "eng"})  # jieba: place, person, organisation, Latin word


def unknown_names(form: str, known: Callable[[str], bool]) -> tuple[str, ...]:
    """Names in a question's search form (jieba's part-of-speech tags) that `known` rejects."""
    words = (pair.word for pair in jieba_module().posseg.cut(form) if pair.flag in NAME_TAGS)
    return tuple(dict.fromkeys(w for w in words if len(w) >= 2 and not known(w)))


class SubjectTerms:
    """The question's subject words, each weighted by its rarity in the corpus (a name the corpus
    never mentions outweighs a word it uses everywhere). An English word the bridge translated is
    present when any of its Chinese words is."""

    def __init__(self, form: str, bridged: dict[str, list[str]] | None = None, rarity: Callable[[str], float] | None = None):
        bridged = bridged or {}
        rarity = rarity or (lambda word: 1.0)
        translated = {w for phrase in bridged for w in phrase.split()}
        self.words = content_words(form)
        self.untranslated = [w for w in self.words if w not in translated]
        self.groups = [(rarity(w), (w,)) for w in self.untranslated]
        self.groups += [(min(map(rarity, cs)), tuple(cs)) for cs in bridged.values() if cs]
        self.total = sum(weight for weight, _ in self.groups)

    def support(self, passage: str) -> float:
        """Weighted share of the subject words the passage contains (1.0 when there are none)."""
        if not self.total:
            return 1.0
        return sum(weight for weight, words in self.groups if any(w in passage for w in words)) / self.total


def unmatched_words(subject: SubjectTerms, known: Callable[[str], bool]) -> tuple[tuple[str, ...], float]:
    """The question's subject words that the bridge did not translate and `known` rejects, and
    their share of all its subject words."""
    unmatched = tuple(w for w in subject.untranslated if not known(w))
    return unmatched, len(unmatched) / len(subject.words) if subject.words else 0.0


def standout(best: float, query: np.ndarray, background: np.ndarray) -> float:
    cosines = background @ query
    return float((best - cosines.mean()) / max(float(cosines.std()), 1e-6))


def background_sample(vectors, size: int) -> np.ndarray:
    """Evenly spaced stored vectors: deterministic, and cheap to score against every query."""
    ids = np.unique(np.linspace(0, size - 1, num=min(size, BACKGROUND_SAMPLE)).astype(np.int64)).tolist()
    return vectors(ids)


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\U00020000" <= ch <= "\U0003134f"

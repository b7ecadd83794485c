"""Chinese names spelled in Latin letters (pinyin or Wade-Giles), found in the corpus vocabulary.

English news spells Chinese people, places and firms by sound: "Wang Weian" (王卫安), "Yuhu" (玉湖),
"Kuang-Chi" (光启, Wade-Giles). No dictionary lists most of them, but the corpus holds them. A run
of capitalised words the dictionary bridge cannot translate is split into syllables, each syllable
into the corpus characters read that way (CC-CEDICT readings), and the character strings whose
every bigram the BM25 vocabulary knows are kept, the best attested first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import pairwise

TOKEN = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
MAX_SYLLABLE = 6  # "zhuang"
MAX_SYLLABLES = 4
MAX_RUN = 3  # words in one name: "Wang Wei An"
# Wade-Giles initials and finals with their pinyin spellings. Names often drop the aspiration
# apostrophe ("Kuang-Chi" for 光启, Guangqi), so plain initials are tried as aspirated too.
INITIALS = (
    ("ch'", ("ch", "q")), ("ch", ("zh", "j", "ch", "q")), ("ts'", ("c",)), ("tz'", ("c",)), ("ts", ("z", "c")),
    ("tz", ("z", "c")), ("hs", ("x",)), ("k'", ("k",)), ("k", ("g", "k")), ("p'", ("p",)), ("p", ("b", "p")),
    ("t'", ("t",)), ("t", ("d", "t")), ("j", ("r", "j")),
)  # fmt: skip
FINALS = (("ieh", "ie"), ("ien", "ian"), ("ih", "i"), ("ung", "ong"), ("uei", "ui"), ("erh", "er"), ("ueh", "ue"))


def spellings(syllable: str) -> set[str]:
    """The syllable as written, and its pinyin readings if it is Wade-Giles."""
    out = {syllable.replace("'", "")}
    for initial, replacements in INITIALS:
        if syllable.startswith(initial):
            rest = syllable[len(initial) :]
            for final, pinyin in FINALS:
                if rest.endswith(final):
                    rest = rest[: -len(final)] + pinyin
                    break
            out.update(r + rest for r in replacements)
            break
    return out


def name_runs(text: str, translatable: Callable[[str], bool]) -> list[list[str]]:
    """Runs of capitalised words, joined by spaces or hyphens, that the bridge cannot translate."""
    runs: list[list[str]] = []
    current: list[str] = []
    end = -1
    for match in TOKEN.finditer(text):
        word = match.group()
        joined = match.start() - end <= 1 or text[end : match.start()] in (" ", "-")
        if not word[0].isupper() or translatable(word.lower()):
            current, end = [], match.end()
            continue
        if not joined or len(current) == MAX_RUN:
            current = []
        if not current:
            runs.append(current)
        current.append(word.lower())
        end = match.end()
    return [run for run in runs if run]


def syllable_options(words: list[str], readings: dict[str, str]) -> list[list[str]]:
    """Every way to read the words as a sequence of syllables the corpus has characters for,
    each position holding that syllable's characters (a word may be several syllables: "weian")."""
    sequences: list[list[str]] = [[]]
    for word in words:
        sequences = [seq + split for seq in sequences for split in _splits(word, readings)]
        sequences = [s for s in sequences if len(s) <= MAX_SYLLABLES]
    return sequences


def _splits(word: str, readings: dict[str, str]) -> list[list[str]]:
    if not word:
        return [[]]
    out = []
    for size in range(1, min(MAX_SYLLABLE + 2, len(word)) + 1):  # +2: a Wade-Giles apostrophe, "ch'"
        chars = "".join(readings.get(s, "") for s in spellings(word[:size]))
        if chars:
            out += [[chars, *rest] for rest in _splits(word[size:], readings)]
    return out


def corpus_names(words: list[str], readings: dict[str, str], frequency: Callable[[str], int], keep: int = 2) -> list[str]:
    """The `keep` character strings the words can spell whose every bigram occurs in the corpus,
    most attested (highest rarest-bigram frequency) first."""
    found: dict[str, int] = {}
    for options in syllable_options(words, readings):
        if len(options) < 2:
            continue
        for name in _spell(options, frequency):
            found[name] = min(frequency(a + b) for a, b in pairwise(name))
    return sorted(found, key=lambda name: (-found[name], name))[:keep]


def _spell(options: list[str], frequency: Callable[[str], int]) -> list[str]:
    partial = list(options[0])
    for chars in options[1:]:
        partial = [p + c for p in partial for c in chars if frequency(p[-1] + c) > 0]
    return partial

"""Chinese script handling with OpenCC: folding to Simplified for search, and showing text in the
reader's own script."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import opencc
from opencc import OpenCC

# Han characters: CJK unified ideographs with extension A, compatibility ideographs, and the
# supplementary planes' extensions B-H. One definition for tokens, script detection and word checks.
HAN = "\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
HAN_CHAR = re.compile(f"[{HAN}]")

HANS = "zh-Hans"
HANT = "zh-Hant"
EN = "en"
SCRIPTS = (EN, HANS, HANT)


@cache
def _converter(config: str) -> OpenCC:
    return OpenCC(config)


def t2s(text: str) -> str:
    """OpenCC's t2s, exactly (`OpenCC("t2s").convert`), in a few C-speed passes: the Python
    converter was the slowest step of indexing."""
    return _simplifier().convert(text)


@dataclass(frozen=True)
class _Simplifier:
    """OpenCC's t2s rebuilt from its own dictionaries. OpenCC converts each segment between its
    separators on its own: it takes the longest phrase the segment holds (the leftmost of equals),
    converts it, and repeats on each side; every character no phrase took goes through the
    character table. Taking the phrases in that order while they do not overlap one already taken
    gives the same segmentation. Phrases are few and rare, so the character table converts whole
    texts and only a segment holding a phrase is segmented. Every entry keeps its length (checked),
    so converted text stays aligned with offsets into the original."""

    chars: dict[int, str]  # a str.translate table
    phrases: dict[str, str]
    by_first: dict[str, list[str]]  # phrases by their first character
    marks: re.Pattern  # characters without which t2s changes nothing
    any_phrase: re.Pattern
    separator: re.Pattern  # OpenCC's own

    def convert(self, text: str) -> str:
        if not self.marks.search(text):
            return text
        converted = text.translate(self.chars)
        segments = sorted({self._segment_around(text, m.start()) for m in self.any_phrase.finditer(text)})
        out, at = [], 0
        for start, end in segments:
            out += [converted[at:start], self._convert_segment(text[start:end])]
            at = end
        return "".join(out) + converted[at:]

    def _segment_around(self, text: str, at: int) -> tuple[int, int]:
        """The segment (the text between two separators) that holds position `at`."""
        after = self.separator.search(text, at)
        start = at
        while start and not self.separator.match(text, start - 1):
            start -= 1
        return start, after.start() if after else len(text)

    def _convert_segment(self, segment: str) -> str:
        """OpenCC's order: the longest phrase first, the leftmost of equals, none over one taken."""
        found = [(len(p), i) for i, ch in enumerate(segment) for p in self.by_first.get(ch, ()) if segment.startswith(p, i)]
        out = list(segment.translate(self.chars))
        free = [True] * len(segment)
        for size, i in sorted(found, key=lambda f: (-f[0], f[1])):
            if all(free[i : i + size]):
                free[i : i + size] = [False] * size
                out[i : i + size] = self.phrases[segment[i : i + size]]
        return "".join(out)


@cache
def _simplifier() -> _Simplifier:
    """The t2s conversion chain (config/t2s.json): TSPhrases, then TSCharacters."""
    chars, phrases = _dictionary("TSCharacters.txt"), _dictionary("TSPhrases.txt")
    if any(len(key) != 1 for key in chars) or any(len(v) != len(k) for table in (chars, phrases) for k, v in table.items()):
        raise ValueError("OpenCC's t2s dictionaries changed: an entry is not one character or changes the length")
    converting = {key for key, value in chars.items() if value != key}
    marks = converting | {ch for key, value in phrases.items() if value != key and converting.isdisjoint(key) for ch in key}
    by_first: dict[str, list[str]] = {}
    for key in phrases:
        by_first.setdefault(key[0], []).append(key)
    return _Simplifier(
        chars={ord(key): value for key, value in chars.items()},
        phrases=phrases,
        by_first=by_first,
        marks=re.compile("[" + "".join(map(re.escape, sorted(marks))) + "]"),
        any_phrase=re.compile("|".join(map(re.escape, phrases))),
        separator=OpenCC().split_chars_re,
    )


def _dictionary(name: str) -> dict[str, str]:
    """One of OpenCC's dictionary files, each key with its first choice, read as OpenCC reads it."""
    entries = {}
    with open(Path(opencc.__file__).parent / "dictionary" / name, encoding="utf-8") as lines:
        for line in lines:
            key, value = line.strip().split("\t")
            entries[key] = value.split(" ")[0]
    return entries


def s2t(text: str) -> str:
    return _converter("s2t").convert(text)


def detect_script(text: str) -> str:
    """`en` for text without Han characters, else `zh-Hant` when converting to Simplified changes
    more characters than converting to Traditional does, else `zh-Hans`."""
    han = HAN_CHAR.findall(text)
    if not han:
        return EN
    sample = "".join(han)
    to_simplified = sum(a != b for a, b in zip(sample, t2s(sample)))
    to_traditional = sum(a != b for a, b in zip(sample, s2t(sample)))
    return HANT if to_simplified > to_traditional else HANS


def is_han(ch: str) -> bool:
    return HAN_CHAR.fullmatch(ch) is not None


def display(text: str, script: str) -> str:
    """`text` in the reader's script: Traditional readers get Traditional, everyone else Simplified
    (English readers of Chinese sources read Simplified by default). Traditional is OpenCC's
    `s2tw`, Taiwan's standard forms: plain `s2t` writes 爲 and 裏 where Traditional sources write
    為 and 裡, so a converted passage beside a quoted one mixed the two."""
    return _converter("s2tw").convert(text) if script == HANT else t2s(text)

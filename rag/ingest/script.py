"""Chinese script handling with OpenCC: folding to Simplified for search, and showing text in the
reader's own script."""

from __future__ import annotations

import re
from functools import cache, lru_cache
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
    """OpenCC t2s, skipped for text it cannot change (most of a Simplified corpus: the Python
    converter is the slowest step of indexing)."""
    return _converter("t2s").convert(text) if _traditional_marks().search(text) else text


@lru_cache(maxsize=1)
def _traditional_marks() -> re.Pattern:
    """Characters without which t2s changes nothing: those its character table converts, plus
    every character of a phrase that converts although each of its characters alone would not."""
    folder = Path(opencc.__file__).parent / "dictionary"
    marks = set()
    for line in (folder / "TSCharacters.txt").read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        if values.split() and values.split()[0] != key:
            marks.add(key)
    for line in (folder / "TSPhrases.txt").read_text(encoding="utf-8").splitlines():
        key, _, values = line.partition("\t")
        if values.split() and values.split()[0] != key and not marks.intersection(key):
            marks.update(key)
    return re.compile("[" + "".join(re.escape(c) for c in sorted(marks)) + "]")


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

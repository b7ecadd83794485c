"""Frozen copy of the search form as commit 252199b built it (rag/ingest/normalize.py, repair.py and
script.py's t2s): the reference tests/parity/test_normalize_parity.py holds the fast version to.
Used only by that test; do not edit it to make the test pass."""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np
import opencc
from opencc import OpenCC

from rag.ingest.frontmatter import front_matter

# ---- script.py -----------------------------------------------------------------------------------


@cache
def _converter(config: str) -> OpenCC:
    return OpenCC(config)


def t2s(text: str) -> str:
    return _converter("t2s").convert(text) if _traditional_marks().search(text) else text


@lru_cache(maxsize=1)
def _traditional_marks() -> re.Pattern:
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


# ---- repair.py -----------------------------------------------------------------------------------

MAX_DOUBLED_RUN = 40
DOUBLED_LINE_COVERAGE = 0.8
SENTENCE_END = re.compile(r"[。！？!?；;…][」』”’）)】\]\"']*\s*$")
PARAGRAPH_LINE = 40
_TERMINAL = re.compile(r"[。！？!?；;…]")
_OPEN_END = re.compile(r"(?:[，、：,:]|[^\W_])$")
_FIELD_GAP = re.compile(r"[\u2e80-\uffff]\s+[\u2e80-\uffff]")
_LIST_MARK = re.compile(r"[一二三四五六七八九十]+[是、．.]|第[一二三四五六七八九十]+[是，、,]|\d+[、．.)）](?!\d)|[（(][一二三四五六七八九十\d]+[)）]")
_LINE = re.compile(r"[^\n]*\n?")


@dataclass(frozen=True)
class Line:
    start: int
    text: str

    @property
    def stripped(self) -> str:
        return self.text.strip()


def is_wide(ch: str) -> bool:
    ch = unicodedata.normalize("NFKC", ch)[:1] or ch
    return ord(ch) >= 0x2E80 or ch in "“”‘’—…·"


def _longest_repeat(line: str, i: int, limit: int) -> int:
    sizes = []
    j = line.find(line[i], i + 1, i + limit + 1)
    while j != -1:
        sizes.append(j - i)
        j = line.find(line[i], j + 1, i + limit + 1)
    return next((s for s in reversed(sizes) if line[i : i + s] == line[i + s : i + 2 * s]), 0)


def undoubled(line: str) -> list[int] | None:
    keep: list[int] = []
    paired = pairs = i = 0
    n = len(line)
    while i < n:
        if line[i].isspace():
            keep.append(i)
            i += 1
            continue
        size = _longest_repeat(line, i, min(MAX_DOUBLED_RUN, (n - i) // 2))
        if size:
            keep.extend(range(i, i + size))
            paired += 2 * size
            pairs += 1
            i += 2 * size
        else:
            keep.append(i)
            i += 1
    visible = sum(not c.isspace() for c in line)
    enough = pairs >= 3 or paired >= 8
    if enough and visible and paired / visible >= DOUBLED_LINE_COVERAGE and not line.strip().isdigit():
        return keep
    return None


def split_lines(text: str) -> list[Line]:
    lines = []
    for match in _LINE.finditer(text):
        if match.start() == match.end():
            break
        lines.append(Line(match.start(), match.group().rstrip("\n")))
    return lines


def is_hard_wrapped(lines: list[Line]) -> bool:
    body = [ln.stripped for ln in lines if ln.stripped]
    if len(body) < 5:
        return False
    open_ended = sum(not SENTENCE_END.search(t) for t in body)
    return open_ended / len(body) > 0.5 and statistics.median(len(t) for t in body) < 40


def _runs_on(line: str, following: str) -> bool:
    tail = _TERMINAL.split(line)[-1]
    return (
        len(line) >= PARAGRAPH_LINE
        and _OPEN_END.search(tail) is not None
        and not _FIELD_GAP.search(tail)
        and re.match(r"[^\W_]", following) is not None
        and not _LIST_MARK.match(following)
        and not (following[0].isupper() and tail[-1].isascii() and tail[-1].isalnum())
    )


def repaired_chars(text: str) -> Iterator[tuple[int, str]]:
    lines = split_lines(text)
    wrapped = is_hard_wrapped(lines)
    texts = [(k, ln.stripped) for k, ln in enumerate(lines) if ln.stripped]
    runs_on = {k for (k, a), (_, b) in pairwise(texts) if _runs_on(a, b)}
    pending_space: int | None = None
    pending_break: int | None = None
    last = ""
    for k, line in enumerate(lines):
        keep = undoubled(line.text)
        indices = keep if keep is not None else range(len(line.text))
        for rel in indices:
            ch = line.text[rel]
            index = line.start + rel
            if ch.isspace():
                pending_space = index if pending_space is None else pending_space
                continue
            if pending_break is not None and last:
                yield pending_break, "\n"
                last = "\n"
            elif pending_space is not None and last and last != "\n" and not (is_wide(last) or is_wide(ch)):
                yield pending_space, " "
            pending_space = pending_break = None
            yield index, ch
            last = ch
        newline = line.start + len(line.text)
        if not line.stripped:
            continue
        if k in runs_on or (wrapped and not SENTENCE_END.search(line.text)):
            pending_space = newline if pending_space is None else pending_space
        elif newline < len(text):
            pending_break = newline


# ---- normalize.py --------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def fold_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).lower()


def search_form(original: str) -> tuple[str, np.ndarray]:
    """(text, offsets) of the search form, as rag.ingest.normalize.search_form made it."""
    chars: list[str] = []
    offsets: list[int] = []
    body = front_matter(original).end
    for index, ch in repaired_chars(original[body:]):
        for folded in fold_char(ch):
            chars.append(folded)
            offsets.append(body + index)
    text = _t2s_same_length("".join(chars))
    return text, np.asarray(offsets, dtype=np.int32)


def _t2s_same_length(text: str) -> str:
    lines = text.split("\n")
    out = []
    for line in lines:
        converted = t2s(line)
        if len(converted) != len(line):
            converted = "".join(c if len(c) == 1 else ch for ch in line for c in [t2s(ch)])
        out.append(converted)
    return "\n".join(out)

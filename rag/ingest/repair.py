"""Repair of text extracted from PDFs, expressed as which original characters to keep.

Two artefacts are common in Chinese news PDFs:
- doubled runs, where a layer is drawn twice (`55月月1515日日` for `5月15日`), and
- hard wraps, where a column's lines end mid-sentence (often with blank lines at page breaks).

A document that is a column layout (`is_hard_wrapped`) has every open-ended line joined. Elsewhere a
line break (blank lines between it and the next text included, as at a page break) is still joined
when it plainly cuts a sentence, as sentences never cross a kept break (`_runs_on`):
- the line stops mid-sentence: its last sentence ends in a clause mark or a letter, digit or
  ideograph, not in a full stop, bracket, quote or other mark that can close a credit or a title;
- the line is running text: at least `PARAGRAPH_LINE` characters (the corpus's headlines, decks and
  bylines have at most 37, its cut paragraphs 43 or more), and its unfinished sentence has no space
  between two wide characters (what separates a byline's names or a caption's credit: `…。 郭立亮 摄`);
- the next line continues it: it starts with a letter, digit or ideograph, not a heading, quote or
  list marker (`#`, `“`, `一是`, `第一，`, `1.`, `（二）`), nor a capital after a word.

Nothing is rewritten: `repaired_chars` yields `(original_index, char)` pairs, where `char` is the
original character or a canonical " " / "\\n" for collapsed whitespace, so offsets stay exact.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise

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
    text: str  # without its newline

    @property
    def stripped(self) -> str:
        return self.text.strip()


def is_wide(ch: str) -> bool:
    """CJK characters, CJK punctuation and typographic marks: no spaces around them.
    Full-width Latin letters and digits fold to ASCII first, so they are not wide."""
    ch = unicodedata.normalize("NFKC", ch)[:1] or ch
    return ord(ch) >= 0x2E80 or ch in "“”‘’—…·"


def _longest_repeat(line: str, i: int, limit: int) -> int:
    """Longest s <= limit with line[i:i+s] == line[i+s:i+2s], else 0. Only sizes where line[i]
    recurs are tried: in ordinary text a character rarely recurs that close, so this is quick."""
    sizes = []
    j = line.find(line[i], i + 1, i + limit + 1)
    while j != -1:
        sizes.append(j - i)
        j = line.find(line[i], j + 1, i + limit + 1)
    return next((s for s in reversed(sizes) if line[i : i + s] == line[i + s : i + 2 * s]), 0)


def undoubled(line: str) -> list[int] | None:
    """Indices to keep if `line` is made of doubled runs, else None.

    Greedy left to right, longest run first: at each position take the longest X with XX next.
    The line counts as doubled when such pairs cover most of its non-space characters and are three or
    more runs or one long one, so ordinary reduplication (天天, 看看, 謝謝！！) never triggers it.
    """
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
    """A column layout: short lines that mostly stop mid-sentence."""
    body = [ln.stripped for ln in lines if ln.stripped]
    if len(body) < 5:
        return False
    open_ended = sum(not SENTENCE_END.search(t) for t in body)
    return open_ended / len(body) > 0.5 and statistics.median(len(t) for t in body) < 40


def _runs_on(line: str, following: str) -> bool:
    """Whether the break between `line` and the next non-empty line `following` (both stripped) cuts
    a sentence of running text; see the module docstring."""
    tail = _TERMINAL.split(line)[-1]  # the sentence the line leaves unfinished, if any
    return (
        len(line) >= PARAGRAPH_LINE
        and _OPEN_END.search(tail) is not None
        and not _FIELD_GAP.search(tail)
        and re.match(r"[^\W_]", following) is not None
        and not _LIST_MARK.match(following)
        and not (following[0].isupper() and tail[-1].isascii() and tail[-1].isalnum())
    )


def repaired_chars(text: str) -> Iterator[tuple[int, str]]:
    """The original characters the search form keeps, with whitespace collapsed.

    Whitespace inside or between joined lines becomes one space between Latin/digit characters and
    nothing next to CJK; a paragraph break becomes one "\\n".
    """
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

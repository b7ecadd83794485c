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

Nothing is rewritten: `repaired_pieces` gives `(original_index, text)` pieces, where `text` is a run
of original characters or a canonical " " / "\\n" for collapsed whitespace, so offsets stay exact.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

MAX_DOUBLED_RUN = 40
DOUBLED_LINE_COVERAGE = 0.8
SENTENCE_END = re.compile(r"[。！？!?；;…][」』”’）)】\]\"']*\s*$")
PARAGRAPH_LINE = 40
_TERMINAL = re.compile(r"[。！？!?；;…]")
_OPEN_END = re.compile(r"(?:[，、：,:]|[^\W_])$")
_FIELD_GAP = re.compile(r"[\u2e80-\uffff]\s+[\u2e80-\uffff]")
_LIST_MARK = re.compile(r"[一二三四五六七八九十]+[是、．.]|第[一二三四五六七八九十]+[是，、,]|\d+[、．.)）](?!\d)|[（(][一二三四五六七八九十\d]+[)）]")
_LINE = re.compile(r"[^\n]*\n?")
_VISIBLE = re.compile(r"\S+")
# At a position, the longest X (up to MAX_DOUBLED_RUN characters, starting visible) with XX there.
_DOUBLED = re.compile(rf"(\S.{{0,{MAX_DOUBLED_RUN - 1}}})\1", re.DOTALL)


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


def undoubled(line: str) -> list[tuple[int, int]] | None:
    """The [start, end) spans of `line` to keep if it is made of doubled runs, else None.

    Greedy left to right, longest run first: at each position take the longest X with XX next.
    The line counts as doubled when such pairs cover most of its non-space characters and are three or
    more runs or one long one, so ordinary reduplication (天天, 看看, 謝謝！！) never triggers it.
    """
    spans: list[tuple[int, int]] = []
    at = paired = pairs = 0
    for match in _DOUBLED.finditer(line):
        size = len(match.group(1))
        spans.append((at, match.start() + size))
        at, paired, pairs = match.end(), paired + 2 * size, pairs + 1
    visible = _visible_count(line)
    enough = pairs >= 3 or paired >= 8
    if enough and visible and paired / visible >= DOUBLED_LINE_COVERAGE and not line.strip().isdigit():
        return [*spans, (at, len(line))]
    return None


def _visible_count(line: str) -> int:
    return len("".join(line.split()))


def _recurring(text: str) -> np.ndarray:
    """`counts[i]`: how many characters of `text[:i]` recur within MAX_DOUBLED_RUN positions. Only
    these can be in a doubled run (XX puts each character of X |X| from itself), so a line where too
    few do cannot be doubled and is never searched: nearly every line of ordinary text."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    order = np.argsort(codes, kind="stable")  # each character's positions in order, side by side
    near = (codes[order[1:]] == codes[order[:-1]]) & (np.diff(order) <= MAX_DOUBLED_RUN)
    recurs = np.zeros(len(codes) + 1, dtype=np.int32)
    recurs[order[1:][near] + 1] = 1
    recurs[order[:-1][near] + 1] = 1
    return np.cumsum(recurs)


def _may_be_doubled(line: Line, recurring: np.ndarray) -> bool:
    """False when too few of the line's characters recur nearby for `undoubled` to accept it."""
    visible = _visible_count(line.text)
    found = int(recurring[line.start + len(line.text)] - recurring[line.start])
    return visible > 0 and found / visible >= DOUBLED_LINE_COVERAGE


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


def repaired_pieces(text: str) -> list[tuple[int, str]]:
    """The original characters the search form keeps, as `(index, run)` pieces: `run` is the
    original's characters from `index` on, or one " " or "\\n" for the whitespace from `index` on.

    Whitespace inside or between joined lines becomes one space between Latin/digit characters and
    nothing next to CJK; a paragraph break becomes one "\\n".
    """
    lines = split_lines(text)
    wrapped = is_hard_wrapped(lines)
    texts = [(k, ln.stripped) for k, ln in enumerate(lines) if ln.stripped]
    runs_on = {k for (k, a), (_, b) in pairwise(texts) if _runs_on(a, b)}
    recurring = _recurring(text)
    out = _Collapsed()
    for k, line in enumerate(lines):
        spans = undoubled(line.text) if _may_be_doubled(line, recurring) else None
        for start, end in spans or [(0, len(line.text))]:
            out.add(line, start, end)
        newline = line.start + len(line.text)
        if not line.stripped:
            continue
        if k in runs_on or (wrapped and not SENTENCE_END.search(line.text)):
            out.space(newline)
        elif newline < len(text):
            out.pending_break = newline
    return out.pieces


class _Collapsed:
    """Pieces of visible text, with the whitespace met between them as one " ", "\\n" or nothing."""

    def __init__(self) -> None:
        self.pieces: list[tuple[int, str]] = []
        self.pending_space: int | None = None
        self.pending_break: int | None = None
        self.last = ""

    def add(self, line: Line, start: int, end: int) -> None:
        """`line.text[start:end]`: its runs of visible characters, and the whitespace around them."""
        at = start
        for run in _VISIBLE.finditer(line.text, start, end):
            if run.start() > at:
                self.space(line.start + at)
            self.visible(line.start + run.start(), run.group())
            at = run.end()
        if at < end:
            self.space(line.start + at)

    def space(self, index: int) -> None:
        if self.pending_space is None:
            self.pending_space = index

    def visible(self, index: int, run: str) -> None:
        if self.pending_break is not None and self.last:
            self.pieces.append((self.pending_break, "\n"))
        elif self.pending_space is not None and self.last and not (is_wide(self.last) or is_wide(run[0])):
            self.pieces.append((self.pending_space, " "))
        self.pending_space = self.pending_break = None
        self.pieces.append((index, run))
        self.last = run[-1]

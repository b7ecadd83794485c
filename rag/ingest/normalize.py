"""The search form of a document: cleaned, folded text whose every character maps back to the original.

Citations quote the original text, so it is never altered. Search, chunking and BM25 run on the
search form instead, built in three passes that each keep an offset per output character:

0. skip the front matter, if any (rag/ingest/frontmatter.py);
1. repair PDF artefacts (doubled characters, hard line wraps) by *dropping* original characters;
2. fold each kept character (NFKC, lower case) and convert Traditional to Simplified with OpenCC;
3. keep paragraph breaks as a single "\\n".

Each pass works on whole runs of text with C-speed string methods (str.translate, re, numpy), not
character by character: an index build normalises every document.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.ingest.frontmatter import front_matter
from rag.ingest.repair import repaired_pieces
from rag.ingest.script import t2s


@dataclass(frozen=True, slots=True)
class SearchForm:
    """Normalised text plus `offsets[i]`, the index in the original of `text[i]`."""

    text: str
    offsets: np.ndarray

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) that covers search-form characters [start, end)."""
        if end <= start:
            raise ValueError("empty span")
        return int(self.offsets[start]), int(self.offsets[end - 1]) + 1

    def repaired(self, original: str, start: int, end: int) -> str:
        """The original characters behind [start, end), each once, whitespace as in the form."""
        out = []
        previous = -1
        for i, offset in enumerate(self.offsets[start:end].tolist()):
            if offset != previous:
                out.append(self.text[start + i] if original[offset].isspace() else original[offset])
            previous = offset
        return "".join(out)


def fold_char(ch: str) -> str:
    """NFKC + lower case for one character (may yield several, never none)."""
    return unicodedata.normalize("NFKC", ch).lower()


class _PerCharacter(dict):
    """A str.translate table that computes a character's entry when the character is first met
    (most of Unicode never is, and computing all of it would cost a second at start-up)."""

    def __init__(self, entry: Callable[[str], str]):
        super().__init__()
        self.entry = entry

    def __missing__(self, code: int) -> str:
        value = self[code] = self.entry(chr(code))
        return value


_FOLDED = _PerCharacter(fold_char)
_FOLDED_LENGTH = _PerCharacter(lambda ch: chr(len(fold_char(ch))))  # as one character, for numpy


def search_form(original: str) -> SearchForm:
    """Build the search form of `original`: its body, after any front matter (metadata, not text)."""
    body = front_matter(original).end
    pieces = repaired_pieces(original[body:])
    kept = "".join(run for _, run in pieces)
    offsets = _offsets(pieces, body)
    folded = kept.translate(_FOLDED)
    if len(folded) != len(kept):  # a character folds to several (… to ...): each takes its offset
        offsets = np.repeat(offsets, np.frombuffer(kept.translate(_FOLDED_LENGTH).encode("latin-1"), dtype=np.uint8))
    return SearchForm(t2s(folded), offsets)  # t2s keeps the length


def _offsets(pieces: list[tuple[int, str]], shift: int) -> np.ndarray:
    """The original index of each character of the pieces: a piece's characters are consecutive."""
    starts = np.fromiter((start for start, _ in pieces), dtype=np.int64, count=len(pieces))
    lengths = np.fromiter((len(run) for _, run in pieces), dtype=np.int64, count=len(pieces))
    positions = np.cumsum(lengths) - lengths  # where each piece starts in the kept text
    offsets = np.repeat(starts + shift - positions, lengths) + np.arange(int(lengths.sum()))
    return offsets.astype(np.int32)  # documents are capped at 64 MiB


class SearchForms:
    """Every document's search form, made once at index time and persisted: text as UTF-32 code
    points and offsets, both memory-mapped on load, so an answer never re-normalises a document
    and a large index costs little resident memory."""

    TEXT, OFFSETS, SPANS = "forms_text.npy", "forms_offsets.npy", "forms.json"

    def __init__(self, spans: dict[str, tuple[int, int]], codes: np.ndarray, offsets: np.ndarray):
        self.spans, self.codes, self.offsets = spans, codes, offsets

    @classmethod
    def of(cls, forms: dict[str, SearchForm]) -> SearchForms:
        spans, position = {}, 0
        for doc_id, form in forms.items():
            spans[doc_id] = (position, position + len(form.text))
            position += len(form.text)
        text = "".join(form.text for form in forms.values())
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        offsets = np.concatenate([form.offsets for form in forms.values()]).astype(np.int32, copy=False) if forms else np.zeros(0, np.int32)
        return cls(spans, codes, offsets)

    def get(self, doc_id: str) -> SearchForm:
        a, b = self.spans[doc_id]
        return SearchForm(np.asarray(self.codes[a:b]).tobytes().decode("utf-32-le"), np.asarray(self.offsets[a:b]))

    def save(self, directory: Path) -> None:
        np.save(directory / self.TEXT, self.codes)
        np.save(directory / self.OFFSETS, self.offsets)
        (directory / self.SPANS).write_text(json.dumps(self.spans, ensure_ascii=False))

    @classmethod
    def load(cls, directory: Path) -> SearchForms:
        spans = {doc: tuple(span) for doc, span in json.loads((directory / cls.SPANS).read_text()).items()}
        return cls(spans, np.load(directory / cls.TEXT, mmap_mode="r"), np.load(directory / cls.OFFSETS, mmap_mode="r"))


def normalize_query(query: str) -> str:
    """The same folding for a query, without the offsets a query does not need."""
    return search_form(query).text

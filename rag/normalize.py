"""The search form of a document: cleaned, folded text whose every character maps back to the original.

Citations quote the original text, so it is never altered. Search, chunking and BM25 run on the
search form instead, built in three passes that each keep an offset per output character:

1. repair PDF artefacts (doubled characters, hard line wraps) by *dropping* original characters;
2. fold each kept character (NFKC, lower case) and convert Traditional to Simplified with OpenCC;
3. keep paragraph breaks as a single "\\n".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rag.repair import repaired_chars
from rag.script import t2s


@dataclass(frozen=True)
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


@lru_cache(maxsize=4096)
def fold_char(ch: str) -> str:
    """NFKC + lower case for one character (may yield several, or none)."""
    return unicodedata.normalize("NFKC", ch).lower()


def search_form(original: str) -> SearchForm:
    """Build the search form of `original`."""
    chars: list[str] = []
    offsets: list[int] = []
    for index, ch in repaired_chars(original):
        for folded in fold_char(ch):
            chars.append(folded)
            offsets.append(index)
    text = _t2s_same_length("".join(chars))
    return SearchForm(text, np.asarray(offsets, dtype=np.int64))


def normalize_query(query: str) -> str:
    """The same folding for a query, without the offsets a query does not need."""
    return search_form(query).text


def _t2s_same_length(text: str) -> str:
    """Traditional to Simplified, line by line, falling back to per-character conversion
    wherever a phrase conversion would change the length (offsets must stay aligned)."""
    lines = text.split("\n")
    out = []
    for line in lines:
        converted = t2s(line)
        if len(converted) != len(line):
            converted = "".join(c if len(c) == 1 else ch for ch in line for c in [t2s(ch)])
        out.append(converted)
    return "\n".join(out)

"""The search form of a document: cleaned, folded text whose every character maps back to the original.

Citations quote the original text, so it is never altered. Search, chunking and BM25 run on the
search form instead, built in three passes that each keep an offset per output character:

0. skip the front matter, if any (rag/ingest/frontmatter.py);
1. repair PDF artefacts (doubled characters, hard line wraps) by *dropping* original characters;
2. fold each kept character (NFKC, lower case) and convert Traditional to Simplified with OpenCC;
3. keep paragraph breaks as a single "\\n".
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.ingest.frontmatter import front_matter
from rag.ingest.repair import repaired_chars
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


@lru_cache(maxsize=4096)
def fold_char(ch: str) -> str:
    """NFKC + lower case for one character (may yield several, or none)."""
    return unicodedata.normalize("NFKC", ch).lower()


def search_form(original: str) -> SearchForm:
    """Build the search form of `original`: its body, after any front matter (metadata, not text)."""
    chars: list[str] = []
    offsets: list[int] = []
    body = front_matter(original).end
    for index, ch in repaired_chars(original[body:]):
        for folded in fold_char(ch):
            chars.append(folded)
            offsets.append(body + index)
    text = _t2s_same_length("".join(chars))
    return SearchForm(text, np.asarray(offsets, dtype=np.int32))  # documents are capped at 64 MiB


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

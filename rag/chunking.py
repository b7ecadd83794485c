"""Sentence-aware chunking of the search form, with offsets back into the original text."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.normalize import SearchForm

# Separators from strongest to weakest; each stays at the end of the piece it closes, so a closing
# quote after a full stop stays with its sentence.
SEPARATORS = [
    r"\n+",
    r"[。！？!?…]+[」』”’)）\]】]*",
    r"[；;]",
    r"[，,、：:]",
    r" ",
    "",
]
SENTENCE_BOUNDARY = re.compile(r"\n+|[。！？!?…;；]+[」』”’)）\]】]*")
MIN_SENTENCE = 6  # shorter pieces (bylines, photo credits) carry no answer


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    chunk_id: str
    start: int  # original offsets: original[start:end] is the cited text
    end: int
    search_start: int  # offsets into the document's search form
    search_end: int
    search_text: str


def make_splitter(size: int, overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=size,
        chunk_overlap=overlap,
        separators=SEPARATORS,
        is_separator_regex=True,
        keep_separator="end",
        strip_whitespace=True,
    )


def chunk_document(doc_id: str, form: SearchForm, size: int, overlap: int) -> list[Chunk]:
    """Split one document; chunk ids hash the chunk's text, so they survive edits elsewhere."""
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    cursor = 0
    for piece in make_splitter(size, overlap).split_text(form.text):
        search_start = form.text.find(piece, cursor)
        if search_start < 0:  # langchain pieces are substrings in order; anything else is a bug
            raise AssertionError(f"chunk not found in {doc_id}")
        search_end = search_start + len(piece)
        cursor = search_start + 1
        start, end = form.original_span(search_start, search_end)
        digest = hashlib.sha1(piece.encode()).hexdigest()[:12]
        seen[digest] = seen.get(digest, 0) + 1
        suffix = f"-{seen[digest]}" if seen[digest] > 1 else ""
        chunks.append(Chunk(doc_id, f"{doc_id}#{digest}{suffix}", start, end, search_start, search_end, piece))
    return chunks


@dataclass(frozen=True)
class Sentence:
    """A sentence of a document's search form: the unit answers are drawn from."""

    doc_id: str
    search_start: int
    search_end: int


def split_sentences(doc_id: str, form: SearchForm) -> list[Sentence]:
    out = []
    for a, b in sentence_spans(form.text):
        piece = form.text[a:b]
        start = a + len(piece) - len(piece.lstrip())
        end = b - (len(piece) - len(piece.rstrip()))
        if end - start >= MIN_SENTENCE:
            out.append(Sentence(doc_id, start, end))
    return out


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of each sentence of `text` (a closing quote stays with its sentence)."""
    spans = []
    start = 0
    for match in SENTENCE_BOUNDARY.finditer(text):
        end = match.end()
        if text[start:end].strip():
            spans.append((start, end))
        start = end
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans

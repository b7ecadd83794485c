"""Sentence-aware chunking of the search form, with offsets back into the original text."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.ingest.normalize import SearchForm

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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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


class Links:
    """A many-to-many relation as two arrays (CSR): row i's members are
    indices[indptr[i]:indptr[i + 1]]. A list of lists would cost ~100 bytes a row at a million rows."""

    def __init__(self, indptr: np.ndarray, indices: np.ndarray):
        self.indptr, self.indices = indptr, indices

    @classmethod
    def of_pairs(cls, rows: np.ndarray, members: np.ndarray, n_rows: int) -> Links:
        order = np.argsort(rows, kind="stable")
        indptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
        return cls(indptr, members[order].astype(np.int32))

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        return {f"{name}_indptr": self.indptr, f"{name}_indices": self.indices}

    @classmethod
    def of_arrays(cls, arrays, name: str) -> Links:
        return cls(arrays[f"{name}_indptr"], arrays[f"{name}_indices"])

    def __getitem__(self, row: int) -> list[int]:
        return self.indices[self.indptr[row] : self.indptr[row + 1]].tolist()

    def __len__(self) -> int:
        return len(self.indptr) - 1


def link_sentences(chunks: list[Chunk], sentences: list[Sentence]) -> tuple[Links, Links]:
    """Which sentences each chunk holds, and the reverse. A sentence belongs to a chunk when at
    least half of the shorter of the two overlaps (long sentences span several chunks).
    Sentences of a document are contiguous, ordered and disjoint, so each chunk's candidates are
    one range found by binary search over (document, position) keys."""
    rank: dict[str, int] = {}
    for s in sentences:
        rank.setdefault(s.doc_id, len(rank))
    shift = np.int64(1) << 32

    def keys(items):
        """Each item's document rank, and its start and end keyed by that rank."""
        doc = np.fromiter((rank.get(x.doc_id, -1) for x in items), dtype=np.int64, count=len(items))
        start = np.fromiter((x.search_start for x in items), dtype=np.int64, count=len(items))
        end = np.fromiter((x.search_end for x in items), dtype=np.int64, count=len(items))
        return doc, doc * shift + start, doc * shift + end

    chunk_doc, chunk_start, chunk_end = keys(chunks)
    _, sentence_start, sentence_end = keys(sentences)
    first = np.searchsorted(sentence_end, chunk_start, side="right")  # first sentence ending after the chunk starts
    stop = np.searchsorted(sentence_start, chunk_end, side="left")  # sentences starting before it ends
    counts = np.where(chunk_doc >= 0, np.maximum(stop - first, 0), 0)
    pair_chunk = np.repeat(np.arange(len(chunks)), counts)
    pair_sentence = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(first, counts)
    overlap = np.minimum(chunk_end[pair_chunk], sentence_end[pair_sentence]) - np.maximum(chunk_start[pair_chunk], sentence_start[pair_sentence])
    shorter = np.minimum(chunk_end[pair_chunk] - chunk_start[pair_chunk], sentence_end[pair_sentence] - sentence_start[pair_sentence])
    keep = (overlap * 2 >= shorter) & (shorter > 0)
    pair_chunk, pair_sentence = pair_chunk[keep], pair_sentence[keep]
    return Links.of_pairs(pair_chunk, pair_sentence, len(chunks)), Links.of_pairs(pair_sentence, pair_chunk, len(sentences))

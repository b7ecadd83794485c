"""One loaded index: documents, chunks and sentences, with the BM25 lexicon, the store that searches
their vectors and postings (rag/store/) and the bridge built over them. How it is built is
rag/index/build.py; how it is laid out on disk, rag/index/format.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from rag.crosslingual.bridge import Bridge
from rag.index.bm25 import BM25
from rag.index.tables import ChunkTable
from rag.ingest.chunking import Chunk, Links, Sentence, link_sentences
from rag.ingest.corpus import Document
from rag.ingest.metadata import DocumentMeta
from rag.ingest.normalize import SearchForm, SearchForms
from rag.ingest.tokenization import get_tokenizer
from rag.store.base import Store


@dataclass
class Index:
    manifest: dict[str, Any]
    documents: Mapping[str, str]  # doc_id -> original text
    chunks: Sequence[Chunk]  # a list while building, a memory-mapped table once loaded (rag/index/tables.py)
    bm25: BM25  # the lexicon: vocabulary, idf and document frequency for question analysis (LocalStore also searches with it)
    store: Store  # dense and lexical search, stored vectors: one per chunk, one per sentence (rag/store/)
    sentences: Sequence[Sentence]
    bridge: Bridge  # English terms -> Chinese corpus words, for English questions
    forms: SearchForms  # each document's search form and offsets, memory-mapped
    metadata: dict[str, DocumentMeta]  # doc_id -> headline, source, date (rag/ingest/metadata.py)
    location: Path | None = None  # the build folder it was loaded from or written to
    links: tuple[Links, Links] = field(default=None)  # type: ignore[assignment]  # chunk -> sentences and back; computed when not given

    def __post_init__(self) -> None:
        if self.links is None:
            self.links = link_sentences(self.chunks, self.sentences)

    @cached_property
    def by_id(self) -> dict[str, int]:
        """Chunk id -> position: made when asked for (an update's reuse), not on every load."""
        return {chunk_id: i for i, chunk_id in enumerate(self.chunk_ids)}

    @property
    def chunk_ids(self) -> Sequence[str]:
        return self.chunks.ids if isinstance(self.chunks, ChunkTable) else [c.chunk_id for c in self.chunks]

    @property
    def chunk_sentences(self) -> Links:
        return self.links[0]

    @property
    def sentence_chunks(self) -> Links:
        return self.links[1]

    @cached_property
    def tokenize(self) -> Callable[[str], list[str]]:
        """The BM25 tokenizer this index was built with: queries must be tokenized the same way."""
        return get_tokenizer(self.manifest["settings"]["tokenizer"])

    def form(self, doc_id: str) -> SearchForm:
        return self.forms.get(doc_id)

    def unchanged(self, docs: list[Document]) -> set[str]:
        """Ids of `docs` this index already holds with the same content."""
        corpus = self.manifest.get("corpus", {})
        return {d.doc_id for d in docs if corpus.get(d.doc_id) == d.sha256 and d.doc_id in self.documents}

    @cached_property
    def doc_chunks(self) -> dict[str, list[Chunk]]:
        """Each document's chunks, in order: grouped once, not scanned for per document."""
        return _by_doc(self.chunks)

    @cached_property
    def doc_sentences(self) -> dict[str, list[Sentence]]:
        return _by_doc(self.sentences)

    @cached_property
    def _sentence_positions(self) -> dict[Sentence, int]:
        return {s: i for i, s in enumerate(self.sentences)}

    def sentence_position(self, sentence: Sentence) -> int | None:
        return self._sentence_positions.get(sentence)

    def sentence_text(self, sentence: int) -> str:
        """Search form of the sentence at position `sentence`."""
        s = self.sentences[sentence]
        return self.form(s.doc_id).text[s.search_start : s.search_end]

    def repaired(self, doc_id: str, start: int, end: int) -> str:
        """Original characters behind search-form [start, end): the original script and case,
        without the PDF artefacts the search form dropped."""
        return self.form(doc_id).repaired(self.documents[doc_id], start, end)

    def rarity(self, word: str, floor: float) -> float:
        """Idf of the word's rarest token (a word the index never saw is as rare as can be), at
        least `floor`, so that no word weighs nothing."""
        idf = self.bm25.idf(self.tokenize(word) or [word])
        return max(float(idf.max()), floor)

    def indexed(self, word: str) -> bool:
        """Does some passage hold every token of the word? (False for a name the corpus never uses.)"""
        tokens = self.tokenize(word)
        return bool(tokens) and all(self.bm25.document_frequency(t) > 0 for t in tokens)


def _by_doc(items: Sequence) -> dict[str, list]:
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(item.doc_id, []).append(item)
    return groups

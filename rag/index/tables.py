"""An index's tables stored as columns: numpy arrays written with `np.save` and memory-mapped on
load. A million-chunk index then loads in the time it takes to map its files, instead of parsing
JSON into a million Python objects; rows become objects only when they are read.

    <name>_codes.npy, <name>_bounds.npy   Strings: UTF-32 code points and each string's [start, end)
    chunks_ids_*.npy, chunks.npy          ChunkTable: chunk ids, and document / offsets as int64 columns
    sentences.npy                         SentenceTable: document / offsets as int64 columns
    documents.json, documents_text_*.npy  Documents: the ids in order, and the original texts
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TypeVar, overload

import numpy as np

from rag.ingest.chunking import Chunk, Sentence
from rag.ingest.normalize import SearchForms

T = TypeVar("T")


def _load(directory: Path, name: str) -> np.ndarray:
    return np.load(directory / name, mmap_mode="r")


class _Table(Sequence[T]):
    """A sequence whose rows are made when read: `_row(i)` for one, a list for a slice."""

    def _row(self, i: int) -> T:
        raise NotImplementedError

    @overload
    def __getitem__(self, i: int) -> T: ...
    @overload
    def __getitem__(self, i: slice) -> list[T]: ...
    def __getitem__(self, i: int | slice) -> T | list[T]:
        if isinstance(i, slice):
            return [self._row(j) for j in range(*i.indices(len(self)))]
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        return self._row(i % len(self))


class Strings(_Table[str]):
    """Strings as one UTF-32 array and their bounds: the i-th string costs one slice to read."""

    def __init__(self, codes: np.ndarray, bounds: np.ndarray):
        self.codes, self.bounds = codes, bounds

    @staticmethod
    def write(directory: Path, name: str, strings: Sequence[str]) -> None:
        """Written one string at a time into a file of the full size: a corpus's text is never
        held a second time, joined (at 1M chunks that copy was a gigabyte of the build's peak)."""
        bounds = np.zeros(len(strings) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, strings), dtype=np.int64, count=len(strings)), out=bounds[1:])
        codes = np.lib.format.open_memmap(directory / f"{name}_codes.npy", mode="w+", dtype=np.uint32, shape=(int(bounds[-1]),))
        for text, low, high in zip(strings, bounds[:-1].tolist(), bounds[1:].tolist()):
            codes[low:high] = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        codes.flush()
        del codes
        np.save(directory / f"{name}_bounds.npy", bounds)

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def _row(self, i: int) -> str:
        return np.asarray(self.codes[self.bounds[i] : self.bounds[i + 1]]).tobytes().decode("utf-32-le")

    @classmethod
    def load(cls, directory: Path, name: str) -> Strings:
        return cls(_load(directory, f"{name}_codes.npy"), _load(directory, f"{name}_bounds.npy"))


class Documents(Mapping[str, str]):
    """doc_id -> original text, read from the mapped texts only when asked for."""

    FILE, TEXTS = "documents.json", "documents_text"

    def __init__(self, ids: list[str], texts: Strings):
        self.ids, self.texts = ids, texts
        self.position = {doc_id: i for i, doc_id in enumerate(ids)}

    @classmethod
    def write(cls, directory: Path, texts: Mapping[str, str]) -> list[str]:
        """The texts stored; returns their ids in order (the tables number documents by it)."""
        ids = list(texts)
        (directory / cls.FILE).write_text(json.dumps(ids, ensure_ascii=False), encoding="utf-8")
        Strings.write(directory, cls.TEXTS, list(texts.values()))
        return ids

    def __getitem__(self, doc_id: str) -> str:
        return self.texts[self.position[doc_id]]

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self.position

    @classmethod
    def load(cls, directory: Path) -> Documents:
        return cls(json.loads((directory / cls.FILE).read_text(encoding="utf-8")), Strings.load(directory, cls.TEXTS))


class _Rows(_Table[T]):
    """Rows of int64 columns whose first column is a document's position in `doc_ids`."""

    def __init__(self, doc_ids: list[str], columns: np.ndarray):
        self.doc_ids, self.columns = doc_ids, columns

    def __len__(self) -> int:
        return len(self.columns)

    @staticmethod
    def columns_of(doc_ids: list[str], rows: Iterable[tuple[str, *tuple[int, ...]]], count: int, width: int) -> np.ndarray:
        """`count` rows of (doc_id, *offsets) as `width` int64 columns: the document's position,
        then the offsets. Streamed into the array: no list of a million rows on the way."""
        position = {doc_id: i for i, doc_id in enumerate(doc_ids)}
        flat = np.fromiter((value for doc_id, *offsets in rows for value in (position[doc_id], *offsets)), dtype=np.int64, count=count * width)
        return flat.reshape(count, width)


class ChunkTable(_Rows[Chunk]):
    """The index's chunks; a chunk's search text is read from the search forms it points into."""

    FILE, IDS = "chunks.npy", "chunks_ids"

    def __init__(self, doc_ids: list[str], columns: np.ndarray, ids: Strings, forms: SearchForms):
        super().__init__(doc_ids, columns)
        self.ids, self.forms = ids, forms

    @classmethod
    def write(cls, directory: Path, chunks: Sequence[Chunk], doc_ids: list[str]) -> None:
        rows = ((c.doc_id, c.start, c.end, c.search_start, c.search_end) for c in chunks)
        np.save(directory / cls.FILE, cls.columns_of(doc_ids, rows, len(chunks), 5))
        Strings.write(directory, cls.IDS, [c.chunk_id for c in chunks])

    def _row(self, i: int) -> Chunk:
        doc, start, end, search_start, search_end = self.columns[i].tolist()
        doc_id = self.doc_ids[doc]
        low = self.forms.spans[doc_id][0]
        text = np.asarray(self.forms.codes[low + search_start : low + search_end]).tobytes().decode("utf-32-le")
        return Chunk(doc_id, self.ids[i], start, end, search_start, search_end, text)

    @classmethod
    def load(cls, directory: Path, doc_ids: list[str], forms: SearchForms) -> ChunkTable:
        return cls(doc_ids, _load(directory, cls.FILE), Strings.load(directory, cls.IDS), forms)


class SentenceTable(_Rows[Sentence]):
    FILE = "sentences.npy"

    @classmethod
    def write(cls, directory: Path, sentences: Sequence[Sentence], doc_ids: list[str]) -> None:
        rows = ((s.doc_id, s.search_start, s.search_end) for s in sentences)
        np.save(directory / cls.FILE, cls.columns_of(doc_ids, rows, len(sentences), 3))

    def _row(self, i: int) -> Sentence:
        doc, start, end = self.columns[i].tolist()
        return Sentence(self.doc_ids[doc], start, end)

    @classmethod
    def load(cls, directory: Path, doc_ids: list[str]) -> SentenceTable:
        return cls(doc_ids, _load(directory, cls.FILE))

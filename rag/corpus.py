"""Reading a corpus folder: every `.txt` / `.md` file is a document whose id is its file name."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = {".txt", ".md"}


class CorpusError(RuntimeError):
    """The corpus folder or one of its files cannot be used."""


@dataclass(frozen=True)
class Document:
    doc_id: str
    text: str
    sha256: str


def corpus_files(directory: Path) -> list[Path]:
    if not directory.exists():
        raise CorpusError(f"corpus folder not found: {directory}")
    if not directory.is_dir():
        raise CorpusError(f"corpus path is not a folder: {directory}")
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise CorpusError(f"corpus folder has no .txt or .md files: {directory}")
    return files


def fingerprint(directory: Path) -> dict[str, str]:
    """Content hash per document id: what decides whether an index is stale."""
    return {p.name: _sha256(_read_bytes(p)) for p in corpus_files(directory)}


def read_document(path: Path) -> Document:
    raw = _read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"cannot decode {path} as UTF-8 (byte {exc.start})") from None
    return Document(path.name, text, _sha256(raw))


def load_corpus(directory: Path) -> list[Document]:
    docs = [read_document(p) for p in corpus_files(directory)]
    if not any(d.text.strip() for d in docs):
        raise CorpusError(f"corpus folder has only empty files: {directory}")
    return docs


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror}") from None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

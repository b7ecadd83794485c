"""Reading a corpus folder: every `.txt` / `.md` file is a document whose id is its file name."""

from __future__ import annotations

import codecs
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = {".txt", ".md"}
LEGACY_ENCODINGS = ("gb18030", "big5")
BINARY_PROBE = 8192  # a NUL byte in the first 8 KiB (and no UTF-16 BOM) means binary


class CorpusError(RuntimeError):
    """The corpus folder or one of its files cannot be used."""


class UnreadableFile(CorpusError):
    """A file that is binary or in no encoding we can read: skipped, and named."""


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
    return Document(path.name, decode(raw, path), _sha256(raw))


def decode(raw: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; otherwise the legacy Chinese encoding,
    GB18030 (a superset of GBK and GB2312) or Big5, that charset-normalizer finds most plausible."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(raw, "utf-16", path)
    if b"\x00" in raw[:BINARY_PROBE]:
        raise UnreadableFile(f"{path.name}: binary, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    best = charset_normalizer.from_bytes(raw, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is None:
        raise UnreadableFile(f"{path.name}: not UTF-8, UTF-16, GB18030 or Big5")
    return _strict(raw, best.encoding, path)


def _strict(raw: bytes, encoding: str, path: Path) -> str:
    try:
        return raw.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path.name}: not valid {encoding} (byte {exc.start})") from None


def load_corpus(directory: Path) -> list[Document]:
    """Every readable document; files that are binary or in no known encoding are skipped and
    named on stderr (one bad file should not stop a corpus from being searchable)."""
    docs, skipped = [], []
    for path in corpus_files(directory):
        try:
            docs.append(read_document(path))
        except UnreadableFile as exc:
            skipped.append(str(exc))
    if skipped:
        print(f"rag: skipped {len(skipped)} file(s): " + "; ".join(skipped), file=sys.stderr)
    if not any(d.text.strip() for d in docs):
        raise CorpusError(f"corpus folder has no readable, non-empty files: {directory}")
    return docs


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror}") from None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()

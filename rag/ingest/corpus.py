"""Reading a corpus folder: every `.txt` / `.md` file is a document whose id is its file name."""

from __future__ import annotations

import codecs
import logging
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rag.checksums import sha256_bytes, sha256_file

logger = logging.getLogger(__name__)
SUFFIXES = {".txt", ".md"}
LEGACY_ENCODINGS = ("gb18030", "big5")
DOC_ID = re.compile(r"\w[\w.\-]{0,199}")  # not "-rf.txt" (an option to a shell) nor ".hidden"
MAX_DOC_ID_BYTES = 200  # a file name holds at most 255 bytes: 66 CJK characters is already 198
MAX_BAD_BYTES = 16  # a UTF-8 file with at most this many undecodable bytes (or 0.1%) is read with U+FFFD
MAX_FILE_BYTES = 64 << 20  # one document is held whole (text, search form, offsets): bound it
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
    notes: tuple[str, ...] = ()  # what reading it had to repair, for the reader of /v1/documents


def corpus_files(directory: Path) -> list[Path]:
    if not directory.exists():
        raise CorpusError(f"corpus folder not found: {directory}")
    if not directory.is_dir():
        raise CorpusError(f"corpus path is not a folder: {directory}")
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in SUFFIXES and (p.is_symlink() or p.is_file()))
    if not files:
        raise CorpusError(f"corpus folder has no .txt or .md files: {directory}")
    return files


@dataclass(frozen=True)
class Corpus:
    documents: list[Document]
    skipped: dict[str, str]  # file name -> sha256 of the files that could not be read
    reasons: dict[str, str] = field(default_factory=dict)  # file name -> why it was skipped


def fingerprint(directory: Path) -> dict[str, str]:
    """Content hash per file, readable or not: what decides whether an index is stale."""
    return {p.name: _file_sha256(p) for p in corpus_files(directory)}


def read_document(path: Path) -> Document:
    if path.is_symlink():  # never followed: a link could point anywhere on the machine
        raise UnreadableFile(f"{path.name}: a symbolic link, not followed (copy the file into the corpus folder)")
    with _reading(path):
        check_size(path.name, path.stat().st_size)  # before reading it into memory
    raw = read_bytes(path)
    text, notes = decode(raw, path)
    return Document(path.name, text, sha256_bytes(raw), notes)


def check_size(name: str, size: int) -> None:
    if size > MAX_FILE_BYTES:
        raise UnreadableFile(f"{name}: {size / 2**20:.0f} MiB, over the {MAX_FILE_BYTES >> 20} MiB limit for one document (split it)")


def decode(raw: bytes, path: Path) -> tuple[str, tuple[str, ...]]:
    """The text and what reading it repaired: UTF-8 (with or without BOM) or UTF-16 with a BOM;
    UTF-8 with a few undecodable bytes (each read as U+FFFD, and said so: one bad byte should not
    hide a whole article); otherwise the legacy Chinese encoding, GB18030 (a superset of GBK and
    GB2312) or Big5, that charset-normalizer finds most plausible."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(raw, "utf-16", path), ()
    if b"\x00" in raw[:BINARY_PROBE]:
        raise UnreadableFile(f"{path.name}: binary, not text")
    try:
        return raw.decode("utf-8-sig"), ()
    except UnicodeDecodeError:
        pass
    escaped = raw.decode("utf-8-sig", errors="surrogateescape")
    bad = sum("\udc80" <= ch <= "\udcff" for ch in escaped)
    if bad <= max(MAX_BAD_BYTES, len(raw) // 1000):
        return raw.decode("utf-8-sig", errors="replace"), (f"{bad} undecodable byte(s) read as U+FFFD",)
    import charset_normalizer

    best = charset_normalizer.from_bytes(raw, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is None:
        raise UnreadableFile(f"{path.name}: not UTF-8, UTF-16, GB18030 or Big5")
    return _strict(raw, best.encoding, path), ()


def _strict(raw: bytes, encoding: str, path: Path) -> str:
    try:
        return raw.decode(encoding).removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path.name}: not valid {encoding} (byte {exc.start})") from None


def check_doc_id(doc_id: str) -> str:
    """A document id is a plain file name the corpus folder can hold: no folders, not hidden, not
    an option, short enough for any file system, and in its one canonical (NFKC) form, so that
    'ｅｖｉｌ.txt' or '𝒳.txt' cannot pose as another document."""
    if not isinstance(doc_id, str) or not DOC_ID.fullmatch(doc_id) or Path(doc_id).suffix.lower() not in SUFFIXES:
        raise CorpusError(f"bad document id {doc_id!r}: use a file name of letters, digits, '-', '_' and '.', starting with a letter or digit and ending in .txt or .md")
    if len(doc_id.encode("utf-8")) > MAX_DOC_ID_BYTES:
        raise CorpusError(f"bad document id {doc_id[:20]!r}...: at most {MAX_DOC_ID_BYTES} bytes in UTF-8 ({len(doc_id.encode('utf-8'))} given)")
    canonical = unicodedata.normalize("NFKC", doc_id)
    if canonical != doc_id:
        raise CorpusError(f"bad document id {doc_id!r}: use its plain form {canonical!r}")
    return doc_id


def parse_document(doc_id: str, raw: bytes) -> Document:
    """A document to add, checked before anything is written: a valid id, a bounded size, text in
    an encoding we read, and not empty."""
    check_doc_id(doc_id)
    check_size(doc_id, len(raw))
    text, notes = decode(raw, Path(doc_id))
    document = Document(doc_id, text, sha256_bytes(raw), notes)
    if not document.text.strip():
        raise CorpusError(f"{doc_id}: the document is empty")
    return document


def store_document(directory: Path, doc_id: str, raw: bytes) -> None:
    """Write `directory/doc_id` through a temporary file renamed into place: a crash leaves either
    the old document or the new one, never half of one."""
    if not directory.is_dir():
        raise CorpusError(f"corpus folder not found: {directory}")
    handle_fd, name = tempfile.mkstemp(prefix=".rag-", suffix=".tmp", dir=directory)  # not named after the id: any id fits
    tmp = Path(name)
    try:
        with os.fdopen(handle_fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, directory / doc_id)
    finally:
        tmp.unlink(missing_ok=True)


def remove_documents(directory: Path, doc_ids: list[str]) -> None:
    """Delete documents by id; all must exist, and at least one document must remain."""
    present = {p.name for p in corpus_files(directory)}
    unknown = [d for d in doc_ids if d not in present]
    if unknown:
        raise CorpusError(f"no such document(s) in {directory}: {', '.join(unknown)}")
    if present <= set(doc_ids):
        raise CorpusError("cannot remove every document: the index needs at least one (delete the index folder instead)")
    for doc_id in doc_ids:
        (directory / doc_id).unlink()


def load_corpus(directory: Path) -> Corpus:
    """Every readable document; files that are binary, too large or in no known encoding are
    skipped and named on stderr (one bad file should not stop a corpus from being searchable)."""
    docs, skipped, reasons = [], {}, {}
    for path in corpus_files(directory):
        try:
            docs.append(read_document(path))
        except UnreadableFile as exc:
            skipped[path.name] = _file_sha256(path)
            reasons[path.name] = str(exc).removeprefix(f"{path.name}: ")
    if reasons:
        logger.warning("skipped %d file(s): %s", len(reasons), "; ".join(f"{name}: {why}" for name, why in reasons.items()))
    for doc in docs:
        for note in doc.notes:
            logger.warning("%s: %s", doc.doc_id, note)
    if not any(d.text.strip() for d in docs):
        raise CorpusError(f"corpus folder has no readable, non-empty files: {directory}")
    return Corpus(docs, skipped, reasons)


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Any OS error while reading `path` becomes one clear CorpusError."""
    try:
        yield
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror}") from None


def read_bytes(path: Path) -> bytes:
    with _reading(path):
        return path.read_bytes()


def _file_sha256(path: Path) -> str:
    """The file's content hash; a symbolic link's is that of where it points (it is not read)."""
    with _reading(path):
        return sha256_bytes(b"symlink:" + os.fsencode(os.readlink(path))) if path.is_symlink() else sha256_file(path)

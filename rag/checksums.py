"""SHA-256 of bytes and of files: what decides whether a document changed, an index file is intact,
or a learned part was fitted on the data in the repo."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Streamed, so that hashing a huge file costs no memory."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def data_checksum(paths: list[Path]) -> str:
    """Identifies the data a learned part was fitted on (kept with its weights as "data")."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]

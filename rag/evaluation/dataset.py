"""The QA set format: one JSON object per line (see eval/README.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

LANGS = ("en", "zh-Hans", "zh-Hant")


class DatasetError(ValueError):
    """The QA file cannot be used."""


@dataclass(frozen=True)
class QAItem:
    id: str
    lang: str
    question: str
    answers: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    doc: str | None = None
    answerable: bool = True


def load_qa(path: Path) -> list[QAItem]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read QA file {path}: {exc}") from None
    items = [_parse(line, path, n) for n, line in enumerate(lines, 1) if line.strip()]
    if not items:
        raise DatasetError(f"QA file {path} has no questions")
    return items


def _parse(line: str, path: Path, number: int) -> QAItem:
    where = f"{path}:{number}"
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(row, dict) or not str(row.get("question", "")).strip():
        raise DatasetError(f"{where}: needs an object with a non-empty 'question'")
    answerable = bool(row.get("answerable", True))
    if answerable and not (row.get("evidence") or row.get("doc")):
        raise DatasetError(f"{where}: an answerable question needs 'evidence' or 'doc'")
    return QAItem(
        id=str(row.get("id", number)),
        lang=str(row.get("lang", "unknown")),
        question=row["question"],
        answers=[str(a) for a in row.get("answers") or []],
        evidence=[str(e) for e in row.get("evidence") or []],
        doc=row.get("doc"),
        answerable=answerable,
    )

"""Front matter: a `---` line at the top of a file, `key: value` lines, then `---`. It is metadata,
not text: the search form starts after it (rag/ingest/normalize.py), and its fields give a
document's headline, source and date (rag/ingest/metadata.py)."""

from __future__ import annotations

from dataclasses import dataclass

FRONT_MATTER_LINES = 40  # a `---` block longer than this is not front matter
KEYS = {
    "title": "title", "headline": "title", "标题": "title", "標題": "title",
    "source": "source", "publisher": "source", "outlet": "source", "来源": "source", "來源": "source",
    "date": "date", "published": "date", "pubdate": "date", "日期": "date",
}  # fmt: skip


@dataclass(frozen=True)
class FrontMatter:
    fields: dict[str, str]
    end: int  # where the body starts (0 without front matter)


def front_matter(text: str) -> FrontMatter:
    """The `---` block at the top of `text`, if any: its known fields and where the body starts."""
    lines = text.split("\n", FRONT_MATTER_LINES + 2)
    if not lines or lines[0].strip().lstrip("\ufeff") != "---":
        return FrontMatter({}, 0)
    fields: dict[str, str] = {}
    position = len(lines[0]) + 1
    for line in lines[1 : FRONT_MATTER_LINES + 2]:
        position += len(line) + 1
        if line.strip() == "---":
            return FrontMatter(fields, min(position, len(text)))
        key, colon, value = line.partition(":")
        if colon and key.strip().lower() in KEYS and value.strip():
            fields.setdefault(KEYS[key.strip().lower()], value.strip().strip("\"'").strip())
    return FrontMatter({}, 0)  # no closing line: ordinary text that starts with a rule

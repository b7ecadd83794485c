"""What a reader judges a source by: its headline, where it was published and when.

Read once per document at index time and stored with the index (`metadata.json`):
- **front matter**, for users who have it: the file starts with a `---` line, then `key: value`
  lines (`title`, `source`, `date`, and the usual synonyms), then `---`. It is metadata, not text:
  the search form starts after it (rag/ingest/normalize.py), so it is never cited.
- otherwise **the article's head**, the short lines before its first paragraph, read from the
  repaired text (a PDF's wrapped first paragraph is one line there, not a headline): a Markdown
  `#` title, or else the first line that reads as a headline and not as a photo credit, byline,
  dateline or masthead; a masthead line (`湖南日报`) or a byline's outlet (`湖南日报全媒体记者…`)
  is the source; a line that is a full date is the date.
- an article without a headline is titled by its first sentence, shortened.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date

from rag.ingest.frontmatter import front_matter
from rag.ingest.normalize import SearchForm, search_form

HEAD_LINES = 12  # the head is at most this many non-empty lines before the first paragraph
PARAGRAPH = 60  # a line this long is running text: the head has ended
HEADLINE_MAX = 48  # longer lines are not headlines
TITLE_CHARS = 30  # a title made from the first sentence is cut here, with "…"
HEAD_CHARS = 4000  # the head and first paragraph are read from this much of the body
TAIL_LINES = 3  # a `来源：…` line may also close the article

_MARKDOWN_TITLE = re.compile(r"#\s+(\S.*)")
_SENTENCE_END = re.compile(r"[。！？!?…][」』”’）)】\]\"']*$")
_CREDIT = re.compile(r"(?:\s|^)\S{2,4}\s*(?:摄|攝|图|圖|供图|供圖)$")  # a photo credit: `… 郭立亮 摄`
_BYLINE = re.compile(r"记者|記者|通讯员|通訊員|编辑|編輯|责编|責編|作者|撰文|整理")
_NAMES_ONLY = re.compile(r"[\u4e00-\u9fff]{2,4}(?:\s+[\u4e00-\u9fff]{2,4})+")  # `谢卓芳 向海林 张泽鹏`
_OUTLET = r"[\u4e00-\u9fffA-Za-z]{2,12}?(?:日报|日報|晚报|晚報|早报|早報|时报|時報|商报|商報|周刊|週刊|新闻网|新聞網|通讯社|通訊社|电视台|電視台|报|報)"
_OUTLET_IN_BYLINE = re.compile(rf"^({_OUTLET})(?:全媒体|全媒體|融媒体|融媒體)?(?:记者|記者|通讯员|通訊員)")
_FULL_DATE = re.compile(r"((?:19|20)\d{2})\s*(?:年|[-/.])\s*(\d{1,2})\s*(?:月|[-/.])\s*(\d{1,2})\s*日?")


@dataclass(frozen=True)
class DocumentMeta:
    """A document's headline, source and date, as written (the reader's script is applied on output)."""

    title: str
    source: str | None = None
    date: str | None = None  # ISO `YYYY-MM-DD` when the text gives a full date, else as written

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def read_metadata(doc_id: str, text: str, form: SearchForm | None = None) -> DocumentMeta:
    """The headline, source and date of the document `doc_id` with contents `text`; `form` is its
    search form, when the caller has made it (an index build has: the repair is not done twice)."""
    head = front_matter(text)
    found = head.fields
    lines = _repaired_lines(text, form or search_form(text), head.end + HEAD_CHARS)
    title = found.get("title") or _markdown_title(lines) or _headline(lines) or _first_sentence(lines) or doc_id
    tail = [line.strip() for line in text[-HEAD_CHARS:].splitlines() if line.strip()][-TAIL_LINES:]
    source = found.get("source") or _source(_head(lines) + tail)
    when = found.get("date")
    return DocumentMeta(title, source, (iso_date(when) or when) if when else _dateline(lines))


def iso_date(text: str) -> str | None:
    """`YYYY-MM-DD` for a full date written in Chinese or numeric form, or None."""
    match = _FULL_DATE.search(text)
    if not match:
        return None
    try:
        return date(*(int(part) for part in match.groups())).isoformat()
    except ValueError:  # 2025年13月40日
        return None


def _repaired_lines(text: str, form: SearchForm, end: int) -> list[str]:
    """The body's non-empty lines after PDF repair, those that start before `end`, as written: the
    search form's paragraphs (a hard-wrapped paragraph is one) mapped back to the original, so the
    spaces of a headline or a photo credit stay."""
    lines, position = [], 0
    for paragraph in form.text.split("\n"):
        if paragraph:
            first, last = int(form.offsets[position]), int(form.offsets[position + len(paragraph) - 1])
            if first >= end:
                break
            line = re.sub(r"\s*\n\s*", "", text[first : last + 1]).strip()
            if line:
                lines.append(line)
        position += len(paragraph) + 1
    return lines


def _head(lines: list[str]) -> list[str]:
    """The lines before the first paragraph of running text."""
    head = []
    for line in lines[:HEAD_LINES]:
        if len(line) >= PARAGRAPH:
            break
        head.append(line)
    return head


def _markdown_title(lines: list[str]) -> str | None:
    for line in lines[: HEAD_LINES * 2]:
        match = _MARKDOWN_TITLE.fullmatch(line)
        if match:
            return match.group(1).strip()
    return None


def _headline(lines: list[str]) -> str | None:
    for line in _head(lines):
        if _reads_as_headline(line):
            return line
    return None


def _reads_as_headline(line: str) -> bool:
    if not 4 <= len(line) <= HEADLINE_MAX or _SENTENCE_END.search(line) or line[0] in "—-–―(（【[":
        return False
    if _CREDIT.search(line) or _BYLINE.search(line) or _NAMES_ONLY.fullmatch(line):
        return False
    return not _FULL_DATE.search(line) and _masthead(line) is None


def _masthead(line: str) -> str | None:
    """The outlet a head line names on its own (`湖南日报`, `来源：新华社`), or None."""
    line = line.strip("（）()【】[] ")
    labelled = re.match(r"(?:来源|來源|source)\s*[:：]\s*(\S.{0,30})$", line, re.IGNORECASE)
    if labelled:
        return labelled.group(1).strip()
    return line if re.fullmatch(_OUTLET, line) else None


def _source(lines: list[str]) -> str | None:
    for line in lines:
        named = _masthead(line) or (match.group(1) if (match := _OUTLET_IN_BYLINE.match(line)) else None)
        if named:
            return named
    return None


def _dateline(lines: list[str]) -> str | None:
    """A full date standing alone (or nearly) on a head line: the publication date."""
    for line in _head(lines):
        if len(line) <= 30 and (iso := iso_date(line)):
            return iso
    return None


def _first_sentence(lines: list[str]) -> str | None:
    """The first paragraph's first sentence, cut to `TITLE_CHARS` characters."""
    paragraphs = [line for line in lines if len(line) >= PARAGRAPH] or [line for line in lines if _SENTENCE_END.search(line)]
    for line in paragraphs[:1]:
        sentence = re.split(r"(?<=[。！？!?])", line, maxsplit=1)[0]
        return sentence if len(sentence) <= TITLE_CHARS else sentence[: TITLE_CHARS - 1] + "…"
    return None

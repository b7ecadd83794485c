"""How `rag ask` and `rag search` print a citation: headline, source and date first, then the file
and its one character range, then the passage."""

from rag.cli import format_citation
from rag.results import Citation


def citation(**fields) -> Citation:
    base = {"rank": 1, "title": "一带一路湘聚共赢", "doc_id": "001.txt", "chunk_id": "001.txt#3", "start": 10, "end": 20, "text": "原文", "display_text": "原文", "score": 0.5}
    return Citation(**{**base, **fields})


def test_a_citation_leads_with_its_headline_source_and_date():
    lines = format_citation(citation(source="湖南日报", date="2025-03-29")).splitlines()
    assert lines[0] == "[1] 一带一路湘聚共赢 · 湖南日报 · 2025-03-29"
    assert lines[1].split() == ["001.txt", "·", "chars", "10–20", "·", "score", "0.5000"]
    assert lines[2].strip() == "原文"


def test_absent_source_and_date_leave_no_empty_separators():
    assert format_citation(citation()).splitlines()[0] == "[1] 一带一路湘聚共赢"

"""Document metadata (rag/ingest/metadata.py): front matter first, then the article's head, and a
title for every document; front matter is never part of the searchable text."""

from pathlib import Path

import pytest

from rag.ingest.frontmatter import front_matter
from rag.ingest.metadata import DocumentMeta, iso_date, read_metadata
from rag.ingest.normalize import search_form

CORPUS = Path(__file__).parents[2] / "corpus"
BODY = "3月29日，2025中国产业转移发展对接活动在长沙开幕，这是湖南首次举办国家级产业转移对接活动，吸引了众多企业代表参加。\n" + "活动期间签约了一批项目。\n" * 4


def test_front_matter_fields_win_and_are_not_searchable():
    text = "---\ntitle: 湘江观察\nSource: 湖南日报\ndate: 2025年3月30日\nauthor: 某人\n---\n# 另一个标题\n" + BODY
    assert read_metadata("a.md", text) == DocumentMeta("湘江观察", "湖南日报", "2025-03-30")
    form = search_form(text)
    assert "湘江观察" not in form.text and "title" not in form.text
    start = text.index("# 另一个标题")
    assert text[int(form.offsets[0])] == "#" and int(form.offsets[0]) == start  # offsets still index the original file


def test_an_unclosed_rule_is_text_not_front_matter():
    text = "---\ntitle: x\n" + BODY
    assert front_matter(text).end == 0
    assert "title" in search_form(text).text


def test_head_lines_skip_credits_bylines_and_read_masthead_and_dateline():
    text = "繁忙的码头。 易昂 摄\n湖南日报\n2025年3月29日 星期六\n从雁阵迁徙到区域竞合\n湖南日报全媒体记者 谢卓芳 彭可心\n" + BODY
    assert read_metadata("b.txt", text) == DocumentMeta("从雁阵迁徙到区域竞合", "湖南日报", "2025-03-29")


def test_source_from_a_byline_or_a_closing_credit():
    assert read_metadata("c.txt", "标题在此\n湖南日报全媒体记者 谢卓芳\n" + BODY).source == "湖南日报"
    assert read_metadata("d.txt", "标题在此\n" + BODY + "（来源：新华社）\n").source == "新华社"
    assert read_metadata("d.txt", "标题在此\n" + BODY + "来源：新华社\n").source == "新华社"


def test_without_a_headline_the_first_sentence_titles_the_article():
    meta = read_metadata("e.txt", BODY)
    assert meta.title.startswith("3月29日，2025中国产业转移") and meta.title.endswith("…") and len(meta.title) == 30
    assert meta.source is None and meta.date is None


def test_a_hard_wrapped_first_paragraph_is_not_a_headline():
    wrapped = (
        "5月14日，湖南—香港投融資對接洽談會在香港\n舉辦。長期以來，香港在湘投資達241億美元、佔\n"
        "湖南利用外資的67%，兩地進出口額連續6年超\n500億元，供港農產品70%左右來自湖南。對接\n會上，湖南精選了200多個優質項目。\n"
    )
    assert read_metadata("f.txt", wrapped).title == "5月14日，湖南—香港投融資對接洽談會在香港舉辦。"


@pytest.mark.parametrize(("text", "iso"), [("2025年3月9日", "2025-03-09"), ("2024-12-01", "2024-12-01"), ("2024/1/2", "2024-01-02"), ("2025年13月40日", None), ("3月29日", None)])
def test_iso_date(text, iso):
    assert iso_date(text) == iso


def test_seed_articles_are_titled_by_their_headlines():
    titles = {p.name[:3]: read_metadata(p.name, p.read_text(encoding="utf-8")) for p in CORPUS.glob("*.txt")}
    assert titles["000"].title == "当「产业迁徙」遇见「湖南磁场」"  # the Markdown title, not the photo credits above it
    assert (titles["001"].title, titles["001"].source) == ("一带一路湘聚共赢", "湖南日报")
    assert titles["004"].title == "東中西產業大轉移 透視中國經濟大循環“底層規劃圖”"
    assert not titles["003"].title.startswith("通讯员")  # a byline is not a headline

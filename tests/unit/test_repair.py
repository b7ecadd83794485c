"""Line breaks a PDF put mid-sentence are joined; breaks after headings, bylines and sentences stay."""

import pytest

from rag.ingest.chunking import sentence_spans
from rag.ingest.normalize import search_form

BODY = "2024年，吉利汽车集团总销量再创新高，累计销售217.7万辆，同比增长32%。吉利汽车2005年11月落户湘潭，已"
CONTINUATION = "在湖南累计投资超过240亿元，累计产销超过260多万辆。"
HEADING = "湖南吉利汽车部件有限公司党委书记程刚： 湖南是吉利汽车重要战略生产制造基地"
BYLINE = "湖南日报全媒体记者 孟姣燕 刘乐"


def sentences(original: str) -> list[str]:
    """Each sentence of the search form, as the original characters behind it."""
    form = search_form(original)
    return [form.repaired(original, a, b).strip() for a, b in sentence_spans(form.text)]


def test_a_paragraph_cut_at_a_page_break_is_one_sentence():
    original = f"{BODY}\n\n{CONTINUATION}\n"
    form = search_form(original)
    expected = "吉利汽车2005年11月落户湘潭，已在湖南累计投资超过240亿元，累计产销超过260多万辆。"
    assert expected in sentences(original)
    # the joined break maps to nothing: the sentence's span cites the original across the break
    a, b = next((a, b) for a, b in sentence_spans(form.text) if "落户湘潭" in form.text[a:b])
    start, end = form.original_span(a, b)
    assert original[start:end] == "吉利汽车2005年11月落户湘潭，已\n\n在湖南累计投资超过240亿元，累计产销超过260多万辆。"


def test_a_latin_word_cut_by_a_break_is_joined_with_one_space():
    original = "Hunan and Hong Kong signed 26 agreements on investment and trade, covering\n\nnew energy and logistics.\n"
    assert sentences(original) == ["Hunan and Hong Kong signed 26 agreements on investment and trade, covering new energy and logistics."]


@pytest.mark.parametrize("first, second", [
    (HEADING, CONTINUATION),  # a heading is shorter than running text
    (BYLINE, CONTINUATION),
    ("征集省外转移项目337个，投资额达3086亿元", CONTINUATION),  # a deck: open-ended, but short
    (BODY.removesuffix("，已") + "。", CONTINUATION),  # the paragraph ends a sentence
    (BODY + "：", "一是转移规模持续扩大。"),  # a list follows
    (BODY + "：", "“投资湖南，既是战略选择，更是布局未来。”"),  # a quotation follows
    ("位于湘潭经开区的吉利汽车制造基地，工人加紧赶制订单产品，满足全球市场需求。 辜鹏博 摄", CONTINUATION),  # a caption's credit
])
def test_breaks_after_a_line_of_its_own_stay(first, second):
    original = f"{first}\n\n{second}\n"
    assert "\n" in search_form(original).text  # the break is kept
    assert sentences(original)[-1] == second

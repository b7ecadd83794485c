"""The English-to-Chinese term bridge, built from a small CC-CEDICT-format dictionary."""

from rag.crosslingual.bridge import Bridge, word_forms

DICTIONARY = """\
# CC-CEDICT format: traditional simplified [pinyin] /gloss/gloss/
總結 总结 [zong3 jie2] /to sum up/to summarize/summary/
方式 方式 [fang1 shi4] /way/manner/style/
計劃 计划 [ji4 hua4] /plan/project/to plan/
長沙 长沙 [Chang2 sha1] /Changsha prefecture-level city and capital of Hunan/
外資 外资 [wai4 zi1] /foreign investment/
外企 外企 [wai4 qi3] /foreign enterprise/
資本 资本 [zi1 ben3] /capital/
海南 海南 [Hai3 nan2] /Hainan Province/
產業 产业 [chan3 ye4] /industry/industrial/
海產 海产 [hai3 chan3] /marine products/seafood/
省份 省份 [sheng3 fen4] /province/
直接 直接 [zhi2 jie1] /direct/immediate/straightforward/
使用 使用 [shi3 yong3] /to use/to employ/to apply/
衡陽 衡阳 [Heng2 yang2] /Hengyang prefecture-level city in Hunan/
工信部 工信部 [Gong1 xin4 bu4] /Ministry of Industry and Information Technology (abbr)/
中心 中心 [zhong1 xin1] /center/heart/core/
北京 北京 [Bei3 jing1] /Beijing, capital of the People's Republic of China/
"""


def bridge(tmp_path, corpus: str) -> Bridge:
    source = tmp_path / "cedict.txt"
    source.write_text(DICTIONARY, encoding="utf-8")
    return Bridge.build([corpus], source=source)


def test_inflected_words_meet_their_glosses():
    assert "way" in word_forms("ways") and "use" in word_forms("used")
    assert "sum" in word_forms("summed") and "plan" in word_forms("planned") and "run" in word_forms("running")
    assert "us" not in word_forms("used")  # stems shorter than three letters are not words worth meeting
    assert "direct" in word_forms("directly")


def test_british_spellings_meet_the_dictionary_s_american_ones(tmp_path):
    assert "center" in word_forms("centre") and "organize" in word_forms("organised") and "labor" in word_forms("labour")
    assert word_forms("four") == ["four"] and word_forms("rise") == ["rise"]  # not every "our" or "ise" is British
    assert bridge(tmp_path, "研发中心").translate("a research centre")["centre"] == ["中心"]


def test_everyday_words_the_dictionary_notation_also_uses_still_translate(tmp_path):
    corpus = "衡阳直接使用外资，在25个省份对接"
    terms = bridge(tmp_path, corpus).translate("in how many provinces has the zone used foreign capital directly")
    assert terms["provinces"] == ["省份"] and terms["used"] == ["使用"] and terms["directly"] == ["直接"]


def test_a_possessive_is_its_noun(tmp_path):
    assert bridge(tmp_path, "衡阳直接使用外资").translate("hengyang's zone") == {"hengyang": ["衡阳"]}


def test_inflected_phrase_meets_a_phrase_gloss(tmp_path):
    terms = bridge(tmp_path, "湖南总结了26种方式，计划明年推广").translate("how many ways has hunan summed up")
    assert terms["summed up"] == ["总结"] and terms["ways"] == ["方式"]


def test_names_by_pinyin_and_only_corpus_words(tmp_path):
    terms = bridge(tmp_path, "长沙的计划").translate("changsha plans foreign investment")
    assert terms == {"changsha": ["长沙"], "plans": ["计划"]}  # 外资 is not in this corpus


def test_adjacent_words_form_a_compound_their_glosses_agree_with(tmp_path):
    corpus = "外资企业、外企和资本。海南的产业与海产"
    terms = bridge(tmp_path, corpus).translate("foreign capital in hainan industrial parks")
    assert terms["foreign capital"] == ["外资"]  # 外(企) + 资(本), glossed "foreign investment"
    assert "hainan industrial" not in terms  # 海(南) + 产(业) = 海产, "seafood": no shared word


def test_an_organisation_answers_to_the_distinctive_tail_of_its_title(tmp_path):
    b = bridge(tmp_path, "工信部和北京")
    terms = b.translate("who heads the hunan department of industry and information technology")
    assert terms["industry and information technology"] == ["工信部"]
    assert "ministry of industry" not in b.translate("the ministry of industry")  # a head, not the tail
    assert "people's republic of china" not in b.table  # named in passing, not the word's own title

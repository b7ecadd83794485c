"""The English-to-Chinese term bridge, built from a small CC-CEDICT-format dictionary."""

from rag.lexical.bridge import Bridge, word_forms

DICTIONARY = """\
# CC-CEDICT format: traditional simplified [pinyin] /gloss/gloss/
總結 总结 [zong3 jie2] /to sum up/to summarize/summary/
方式 方式 [fang1 shi4] /way/manner/style/
計劃 计划 [ji4 hua4] /plan/project/to plan/
長沙 长沙 [Chang2 sha1] /Changsha prefecture-level city and capital of Hunan/
外資 外资 [wai4 zi1] /foreign investment/
"""


def bridge(tmp_path, corpus: str) -> Bridge:
    source = tmp_path / "cedict.txt"
    source.write_text(DICTIONARY, encoding="utf-8")
    return Bridge.build([corpus], source)


def test_inflected_words_meet_their_glosses():
    assert "way" in word_forms("ways") and "use" in word_forms("used")
    assert "sum" in word_forms("summed") and "plan" in word_forms("planned") and "run" in word_forms("running")
    assert "us" not in word_forms("used")  # stems shorter than three letters are not words worth meeting


def test_inflected_phrase_meets_a_phrase_gloss(tmp_path):
    terms = bridge(tmp_path, "湖南总结了26种方式，计划明年推广").translate("how many ways has hunan summed up")
    assert terms["summed up"] == ["总结"] and terms["ways"] == ["方式"]


def test_names_by_pinyin_and_only_corpus_words(tmp_path):
    terms = bridge(tmp_path, "长沙的计划").translate("changsha plans foreign investment")
    assert terms == {"changsha": ["长沙"], "plans": ["计划"]}  # 外资 is not in this corpus

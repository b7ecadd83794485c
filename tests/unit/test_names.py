"""Chinese names spelled in pinyin or Wade-Giles, matched to the corpus vocabulary."""

from collections import Counter

from rag.crosslingual.names import corpus_names, name_runs, spellings

READINGS = {"wang": "王网往", "wei": "为卫委伟", "an": "安案", "guang": "光广", "qi": "七启企", "zhi": "之制", "ji": "机基"}
CORPUS = "省工信厅厅长王卫安表示，光启技术为企业安排了网络。"
BIGRAMS = Counter(CORPUS[i : i + 2] for i in range(len(CORPUS) - 1))


def test_wade_giles_syllables_read_as_pinyin():
    assert "guang" in spellings("kuang") and "qi" in spellings("ch'i") and "qi" in spellings("chi")
    assert "xi" in spellings("hsi") and "zhi" in spellings("chih") and "rong" in spellings("jung")
    assert spellings("wang") == {"wang"}


def test_runs_are_capitalised_words_the_dictionary_cannot_translate():
    known = "in how many provinces did technologies hold talks before choosing zhuzhou ask what the minister say"
    translatable = set(known.split()).__contains__
    text = "In how many provinces did Kuang-Chi Technologies hold talks before choosing Zhuzhou? Ask Wang Weian."
    assert name_runs(text, translatable) == [["kuang", "chi"], ["wang", "weian"]]
    assert name_runs("What did the minister say?", translatable) == []


def test_names_are_spelled_with_corpus_characters_whose_bigrams_occur():
    assert corpus_names(["wang", "weian"], READINGS, BIGRAMS.__getitem__) == ["王卫安"]  # wei + an, split inside a word
    assert corpus_names(["kuang", "chi"], READINGS, BIGRAMS.__getitem__) == ["光启"]
    assert corpus_names(["wei"], READINGS, BIGRAMS.__getitem__) == []  # one syllable: too ambiguous to try
    assert corpus_names(["xyz", "wei"], READINGS, BIGRAMS.__getitem__) == []

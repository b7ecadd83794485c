"""The public QA sets (eval/public/): every question has one hand translation, the split is by
article and stable, and the built files are in `rag eval`'s format."""

import json
import runpy
from pathlib import Path

from rag.evaluation.dataset import load_qa

PUBLIC = Path(__file__).parents[2] / "eval" / "public"
BUILD = runpy.run_path(str(PUBLIC / "build.py"), run_name="__build__")


def source_questions() -> dict[str, str]:
    out = {}
    for source, *_ in BUILD["SETS"].values():
        for article in json.loads((PUBLIC / "source" / source).read_text(encoding="utf-8"))["data"]:
            for paragraph in article["paragraphs"]:
                out.update({qa["id"]: qa["question"] for qa in paragraph["qas"] if qa["question"].strip()})
    return out


def test_every_question_has_exactly_one_english_translation():
    english = BUILD["load_translations"](BUILD["TRANSLATIONS"])  # exits on Chinese characters or a repeated id
    assert set(english) == set(source_questions())


def test_the_split_is_by_article_and_stable():
    split_of = BUILD["split_of"]
    assert split_of("drcd", "1147") == split_of("drcd", "1147")
    shares = [split_of("cmrc", f"TRIAL_{n}") for n in range(1000)]
    assert 0.5 < shares.count("train") / 1000 < 0.7 and 0.1 < shares.count("test") / 1000 < 0.3


def test_built_sets_pair_each_question_in_both_languages(tmp_path):
    BUILD["main"](["--out", str(tmp_path)])
    for name, (_, lang, _) in BUILD["SETS"].items():
        articles: dict[str, set[str]] = {}
        for split in ("train", "dev", "test"):
            items = load_qa(tmp_path / name / f"{split}.jsonl")
            assert {i.lang for i in items} == {"en", lang}
            assert sum(i.lang == "en" for i in items) * 2 == len(items)
            assert all(i.doc and (tmp_path / name / "corpus" / i.doc).exists() and i.answers for i in items)
            rows = [json.loads(line) for line in (tmp_path / name / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
            articles[split] = {r["article"] for r in rows}
        assert not (articles["train"] & articles["test"]) and not (articles["dev"] & articles["test"])


def test_each_paragraph_is_titled_by_its_article(tmp_path):
    from rag.ingest.metadata import read_metadata

    BUILD["main"](["--out", str(tmp_path)])
    source, _, origin = BUILD["SETS"]["drcd"]
    article = json.loads((PUBLIC / "source" / source).read_text(encoding="utf-8"))["data"][0]
    doc = f"{article['paragraphs'][0]['id']}.txt"
    meta = read_metadata(doc, (tmp_path / "drcd" / "corpus" / doc).read_text(encoding="utf-8"))
    assert (meta.title, meta.source) == (article["title"].strip(), origin)

"""Builds the public QA sets (eval/public/README.md) from the committed sources and translations:
for each set, a corpus folder (one paragraph = one document) and train / dev / test question files
in `rag eval`'s format, every question twice: the Chinese original and its English translation.
Each paragraph file opens with front matter naming its Wikipedia article (rag/ingest/metadata.py),
so citations show the article's title.

    python eval/public/build.py            # writes eval/public/build/{cmrc,drcd}/
    python eval/public/build.py --out DIR

Splits are by article (a hash of its id), so no article has questions in two splits: what a
model learns from train questions cannot be an article's wording seen again at test time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SETS = {  # name -> (source file, script of its questions and paragraphs, where its paragraphs come from)
    "cmrc": ("cmrc2018_trial.json", "zh-Hans", "维基百科（CMRC 2018）"),
    "drcd": ("drcd_test.json", "zh-Hant", "維基百科（DRCD）"),
}
TRANSLATIONS = HERE / "translations.en.tsv"
SPLITS = (("train", 60), ("dev", 20), ("test", 20))  # share of articles, in percent
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def split_of(set_name: str, article_id: str) -> str:
    """train, dev or test, fixed by the article's id alone."""
    bucket = int(hashlib.sha256(f"{set_name}:{article_id}".encode()).hexdigest(), 16) % 100
    for name, share in SPLITS:
        if bucket < share:
            return name
        bucket -= share
    raise AssertionError("split shares must add up to 100")


def load_translations(path: Path) -> dict[str, str]:
    """Question id -> English, checked: one per id, no Chinese characters left."""
    out: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        qid, sep, english = line.partition("\t")
        if not sep or not english.strip() or HAN.search(english) or qid in out:
            sys.exit(f"{path}:{number}: expected 'id<TAB>English', once per id, without Chinese characters")
        out[qid] = english.strip()
    return out


def build_set(name: str, out: Path, english: dict[str, str]) -> dict[str, int]:
    source, lang, origin = SETS[name]
    data = json.loads((HERE / "source" / source).read_text(encoding="utf-8"))["data"]
    corpus = out / name / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[dict]] = {split: [] for split, _ in SPLITS}
    for article in data:
        split = split_of(name, article["id"])
        for paragraph in article["paragraphs"]:
            doc = f"{paragraph['id']}.txt"
            front = f"---\ntitle: {article['title'].strip()}\nsource: {origin}\n---\n"  # the article's title on every citation
            (corpus / doc).write_text(front + paragraph["context"].strip() + "\n", encoding="utf-8")
            for qa in (qa for qa in paragraph["qas"] if qa["question"].strip()):  # two CMRC items have none
                answers = list(dict.fromkeys(a["text"].strip() for a in qa["answers"] if a["text"].strip()))
                base = {"answers": answers, "doc": doc, "answerable": True, "source_id": qa["id"], "article": article["id"]}
                rows[split].append({"id": f"{name}-{qa['id']}-zh", "lang": lang, "question": qa["question"].strip(), **base})
                if qa["id"] in english:
                    rows[split].append({"id": f"{name}-{qa['id']}-en", "lang": "en", "question": english[qa["id"]], **base})
    counts = {}
    for split, items in rows.items():
        (out / name / f"{split}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items), encoding="utf-8")
        counts[split] = len(items)
    return counts


def question_pairs(build: Path, name: str, split: str) -> list[tuple[str, str, str]]:
    """(English, Chinese original, gold document) for each question of one built split."""
    rows = [json.loads(line) for line in (build / name / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
    originals = {r["source_id"]: r["question"] for r in rows if r["lang"] != "en"}
    return [(r["question"], originals[r["source_id"]], r["doc"]) for r in rows if r["lang"] == "en" and r["source_id"] in originals]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "build")
    args = parser.parse_args(argv)
    english = load_translations(TRANSLATIONS) if TRANSLATIONS.exists() else {}
    for name in SETS:
        counts = build_set(name, args.out, english)
        print(f"{name}: " + ", ".join(f"{split} {n} questions" for split, n in counts.items()))


if __name__ == "__main__":
    main()

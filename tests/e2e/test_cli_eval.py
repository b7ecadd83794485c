"""`rag eval` from the command line: an experiment with other settings builds its own index and
never touches the shared one, and every fusion strategy serves answers."""

import json
import shutil
from pathlib import Path

from rag.cli import main
from rag.index.publish import IndexDir
from rag.search.retriever import Retriever

CORPUS = Path(__file__).parents[2] / "corpus"
QA = {"id": "a", "lang": "zh-Hans", "question": "长沙签约了多少个重点产业转移合作项目？", "answers": ["16个"], "doc": "001_e07e39b34995dd8d.txt"}


def test_an_experiment_builds_its_own_index_beside_the_shared_one(tmp_path, capsys):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    shutil.copy(CORPUS / QA["doc"], corpus)
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps(QA, ensure_ascii=False), encoding="utf-8")
    common = ["--corpus", str(corpus), "--index", str(index), "--out", str(tmp_path / "report")]
    assert main(["eval", str(qa), *common]) == 0
    shared = IndexDir(index).current()
    assert main(["eval", str(qa), *common, "--set", "chunk_size=150"]) == 0
    assert IndexDir(index).current() == shared  # the shared index was not rebuilt
    experiments = list((index / "experiments").iterdir())
    assert len(experiments) == 1 and IndexDir(experiments[0]).manifest()["settings"]["chunk_size"] == 150
    report = json.loads((tmp_path / "report" / "eval.json").read_text())
    assert report["settings"]["chunk_size"] == 150 and report["summary"]["hybrid"]["all"]["answer_accuracy"] == 1.0


def test_weighted_fusion_answers_too(engine):
    weighted = Retriever(engine.index, engine.settings.with_overrides(fusion="weighted"))
    question = engine.analyse("長沙簽約了多少個項目？")
    hits = weighted.search(question, 5)
    assert len(hits) == 5 and hits == sorted(hits, key=lambda h: -h.score)
    assert {h.chunk for h in hits} & {h.chunk for h in engine.retriever.search(question, 5)}

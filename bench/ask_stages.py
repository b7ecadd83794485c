"""Where a question's time goes: the median of each stage `rag ask` times (analyse, retrieve,
answer: the learned reader) over a QA file's questions, per language, warm, one at a time.

    python bench/ask_stages.py [eval/qa.jsonl] [--corpus DIR --index DIR]

Writes bench/results/ask_stages.json. Run it on a quiet machine: medians move with load.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from rag.engine import Engine
from rag.evaluation.dataset import load_qa
from rag.settings import load_settings

OUT = Path(__file__).parent / "results" / "ask_stages.json"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("qa_file", type=Path, nargs="?", default=Path("eval/qa.jsonl"))
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--index", type=Path)
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("corpus", args.corpus), ("index", args.index)) if v is not None}
    engine = Engine.open(load_settings(**overrides))
    items = load_qa(args.qa_file)
    for item in items[:5]:  # warm caches and the encoder
        engine.ask(item.question)
    laps: dict[str, dict[str, list[float]]] = {}
    for item in items:
        for stage, ms in engine.ask(item.question).timings_ms.items():
            laps.setdefault("en" if item.lang == "en" else "zh", {}).setdefault(stage, []).append(ms)
    result = {"qa_file": str(args.qa_file), "p50_ms": {lang: {stage: round(float(np.median(v)), 1) for stage, v in stages.items()} for lang, stages in laps.items()}}
    OUT.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

"""Regenerates rag/crosslingual/query_map.npz, the learned English-question map, from the data:
the public sets' train splits (eval/public/), English translation paired with Chinese original.

    python train/query_map.py [--strength 3.0] [--out rag/crosslingual/query_map.npz]

Deterministic: the C engine's vectors depend on the text alone and ridge regression is solved in
closed form, so there is no seed to fix and a rerun writes the same matrix. Prints the time and
peak memory it took, and how close mapped English questions of the dev splits come to their
Chinese originals (mean cosine) before and after.
"""

from __future__ import annotations

import argparse
import resource
import runpy
import sys
import time
from pathlib import Path

import numpy as np

from rag.checksums import data_checksum
from rag.crosslingual.query_map import SHIPPED, QueryMap, fit_ridge
from rag.embedding.model import Embedder
from rag.ingest.normalize import normalize_query
from rag.settings import DEFAULT_MODEL

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = ROOT / "eval" / "public"
STRENGTH = 3.0  # ridge pull towards the identity; 1-10 within 0.02 dense Hit@1 on the dev splits, 3 best


def training_data() -> list[Path]:
    """What the map is fitted on: the translations and both source files."""
    return [PUBLIC / "translations.en.tsv", *sorted((PUBLIC / "source").glob("*.json"))]


def question_pairs(build: dict, split: str) -> tuple[list[str], list[str]]:
    """(English, Chinese) questions of one split of every public set, paired by source question."""
    pairs = [pair for name in build["SETS"] for pair in build["question_pairs"](build["HERE"] / "build", name, split)]
    return [english for english, _, _ in pairs], [chinese for _, chinese, _ in pairs]


def embed(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """As the question analyser embeds them: the search form, through the bundled model's C engine."""
    return np.concatenate([embedder.embed_queries([normalize_query(t) for t in texts[i : i + 256]]) for i in range(0, len(texts), 256)])


def mean_cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    return float(np.mean(np.sum(a * b, axis=1)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strength", type=float, default=STRENGTH)
    parser.add_argument("--out", type=Path, default=SHIPPED)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    build = runpy.run_path(str(PUBLIC / "build.py"), run_name="__build__")
    build["main"]([])
    embedder = Embedder(DEFAULT_MODEL)
    english, chinese = question_pairs(build, "train")
    x, y = embed(embedder, english), embed(embedder, chinese)
    matrix = fit_ridge(x, y, args.strength)
    meta = {"data": data_checksum(training_data()), "pairs": str(len(english)), "strength": str(args.strength)}
    QueryMap(matrix, DEFAULT_MODEL, meta).save(args.out)
    dev_en, dev_zh = question_pairs(build, "dev")
    dx, dy = embed(embedder, dev_en), embed(embedder, dev_zh)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fitted on {len(english)} question pairs (strength {args.strength}) in {seconds:.0f} s, peak memory {peak_mb:.0f} MB; wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    print(f"dev pairs: {len(dev_en)}; mean cosine English -> Chinese original: {mean_cosine(dx, dy):.3f} unmapped, {mean_cosine(dx @ matrix, dy):.3f} mapped")


if __name__ == "__main__":
    sys.exit(main())

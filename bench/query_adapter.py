"""Does fine-tuning the encoder's question side beat the linear map? Measures both on the public
sets' dev splits (dense-only Hit@1/Hit@5 of English questions, gold paragraph), with the cost of each.

    python bench/query_adapter.py [--layers 2] [--epochs 2]

The adapter: the bundled model's top `--layers` transformer layers trained (torch, seed 0) so
that an English question's embedding matches the C engine's embedding of its Chinese original
(the same distillation target the map is fitted on), on the same train-split pairs. It needs
torch at query time (the map does not): its per-question latency and memory are printed beside.
Writes bench/results/query_adapter.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import resource
import runpy
import time
from pathlib import Path

import numpy as np

from rag.crosslingual.query_map import SHIPPED, QueryMap
from rag.embedding.model import Embedder
from rag.engine import Engine
from rag.ingest.normalize import normalize_query
from rag.settings import DEFAULT_MODEL, load_settings

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = ROOT / "eval" / "public"
RESULTS = ROOT / "bench" / "results"


def pairs(build: dict, split: str) -> dict[str, list[tuple[str, str, str]]]:
    """Per set: (English, Chinese, gold document) of one split."""
    return {name: build["question_pairs"](PUBLIC / "build", name, split) for name in build["SETS"]}


def hits(engine: Engine, vectors: np.ndarray, docs: list[str]) -> tuple[float, float]:
    h1 = h5 = 0
    for vector, doc in zip(vectors, docs):
        ids, _ = engine.retriever.dense_ranking(vector.astype(np.float32), 10)
        top = [engine.index.chunks[i].doc_id for i in ids[:5]]
        h1, h5 = h1 + (top[0] == doc), h5 + (doc in top)
    return h1 / len(docs), h5 / len(docs)


def train_adapter(embedder: Embedder, english: list[str], targets: np.ndarray, layers: int, epochs: int):
    import torch

    torch.manual_seed(0)
    model = embedder.model  # sentence-transformers, torch
    encoder = model[0].auto_model
    for p in model.parameters():
        p.requires_grad = False
    trainable = [p for layer in encoder.encoder.layer[-layers:] for p in layer.parameters()]
    for p in trainable:
        p.requires_grad = True
    optimiser = torch.optim.AdamW(trainable, lr=3e-5)
    y = torch.tensor(targets)
    model.train()
    order = np.random.default_rng(0)
    for _ in range(epochs):
        for batch in np.array_split(order.permutation(len(english)), max(1, len(english) // 32)):
            features = model.tokenize(["query: " + normalize_query(english[i]) for i in batch])
            out = torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)
            loss = ((out - y[batch]) ** 2).sum(-1).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    return model, sum(p.numel() for p in trainable)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    build = runpy.run_path(str(PUBLIC / "build.py"), run_name="__build__")
    build["main"]([])
    embedder = Embedder(DEFAULT_MODEL)
    train, dev = pairs(build, "train"), pairs(build, "dev")
    english = [e for rows in train.values() for e, _, _ in rows]
    targets = np.concatenate([embedder.embed_queries([normalize_query(z) for _, z, _ in rows]) for rows in train.values()])
    query_map = QueryMap.load(SHIPPED)
    engines = {name: Engine.open(load_settings(corpus=PUBLIC / "build" / name / "corpus", index=PUBLIC / "build" / name / "index")) for name in dev}
    results: dict = {"sets": {}, "layers": args.layers, "epochs": args.epochs, "train_pairs": len(english)}
    raw = {name: embedder.embed_queries([normalize_query(e) for e, _, _ in rows]) for name, rows in dev.items()}
    started = time.perf_counter()
    model, trainable = train_adapter(embedder, english, targets, args.layers, args.epochs)
    results["adapter_train_s"] = time.perf_counter() - started
    results["adapter_trainable_params"] = trainable
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for name, rows in dev.items():
        docs = [d for _, _, d in rows]
        tuned = model.encode([normalize_query(e) for e, _, _ in rows], prompt_name="query", normalize_embeddings=True, convert_to_numpy=True)
        results["sets"][name] = {
            "questions": len(rows),
            "unmapped": hits(engines[name], raw[name], docs),
            "linear map": hits(engines[name], np.stack([query_map.apply(v) for v in raw[name]]), docs),
            "adapter": hits(engines[name], tuned, docs),
        }
    question = [normalize_query(dev["drcd"][0][0])]
    timings = []
    for _ in range(30):
        t = time.perf_counter()
        model.encode(question, prompt_name="query")
        timings.append((time.perf_counter() - t) * 1000)
    results["adapter_query_ms_p50"] = float(np.median(timings))
    timings = []
    for _ in range(30):
        t = time.perf_counter()
        query_map.apply(embedder.embed_queries(question)[0])
        timings.append((time.perf_counter() - t) * 1000)
    results["map_query_ms_p50"] = float(np.median(timings))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "query_adapter.json").write_text(json.dumps(results, indent=2))
    lines = ["| set | English dev questions | unmapped Hit@1 / @5 | linear map | adapter (top layers) |", "| --- | --- | --- | --- | --- |"]
    for name, r in results["sets"].items():
        lines.append(f"| {name} | {r['questions']} | " + " | ".join(f"{r[k][0]:.3f} / {r[k][1]:.3f}" for k in ("unmapped", "linear map", "adapter")) + " |")
    lines.append("")
    lines.append(
        f"Adapter: top {args.layers} layers ({trainable / 1e6:.1f} M parameters), {args.epochs} epochs on {len(english)} pairs in "
        f"{results['adapter_train_s']:.0f} s, peak RSS {results['peak_rss_mb']:.0f} MB; question embedding p50 {results['adapter_query_ms_p50']:.1f} ms "
        f"(torch) against {results['map_query_ms_p50']:.1f} ms for the C engine plus the map."
    )
    (RESULTS / "query_adapter.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

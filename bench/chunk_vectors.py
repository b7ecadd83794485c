"""What each way of giving passages their vectors costs and keeps (settings `chunk_vectors`).

    python bench/chunk_vectors.py                 # seed dev + public dev splits, both options
    python bench/chunk_vectors.py --sets seed     # the seed dev set only

- embedded: every passage (chunk) is embedded, and every sentence too (the sentences serve precise
  matches and the reader): ~3.7 model passes per chunk.
- pooled: only sentences are embedded; a chunk's vector is the normalised mean of its sentences'.

Quality: `rag eval` with `--set chunk_vectors=...` on the dev splits (tuning data, never the test
splits). Cost: the bundled model's real time per chunk, measured on the public corpus's own chunks
and sentences, uncached, and projected to 100k and 1M chunks on this machine. Writes
bench/results/chunk_vectors.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PUBLIC = ROOT / "eval" / "public" / "build"
OPTIONS = ("embedded", "pooled")
METRICS = ("hit@1", "mrr@10", "answer_accuracy", "span_f1")
SAMPLE_CHUNKS = 200


def eval_sets(names: list[str]) -> dict[str, list[str]]:
    """`rag eval` arguments per named set: the seed dev set, or a public set's dev split."""
    sets = {"seed": ["eval/qa.jsonl"]}
    for name in ("cmrc", "drcd"):
        sets[name] = [f"{PUBLIC.relative_to(ROOT)}/{name}/dev.jsonl", "--corpus", f"{PUBLIC.relative_to(ROOT)}/{name}/corpus", "--index", f"{PUBLIC.relative_to(ROOT)}/{name}/index"]
    return {name: sets[name] for name in names}


def quality(args: list[str], option: str, out: Path) -> dict:
    """Hybrid figures (all questions, and English) of one evaluation."""
    command = [sys.executable, "-m", "rag", "eval", "-q", *args, "--out", str(out), "--set", f"chunk_vectors={option}"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)  # exit 1 = a threshold missed: still measured
    if not (out / "eval.json").exists():
        raise RuntimeError(f"rag eval failed: {done.stderr[-2000:]}")
    summary = json.loads((out / "eval.json").read_text())["summary"]["hybrid"]
    return {scope: {m: round(summary[scope][m], 3) for m in METRICS} for scope in ("all", "en") if scope in summary}


def embedding_cost() -> dict:
    """Seconds of model time per chunk for each option, on real chunks and their sentences."""
    from rag.embedding.model import _c_engine
    from rag.ingest.chunking import chunk_document, link_sentences, split_sentences
    from rag.ingest.corpus import load_corpus
    from rag.ingest.normalize import search_form
    from rag.settings import load_settings

    settings = load_settings()
    chunks, sentences = [], []
    for doc in load_corpus(PUBLIC / "cmrc" / "corpus").documents:
        form = search_form(doc.text)
        chunks += chunk_document(doc.doc_id, form, settings.chunk_size, settings.chunk_overlap)
        sentences += [(s, form.text[s.search_start : s.search_end]) for s in split_sentences(doc.doc_id, form)]
        if len(chunks) >= SAMPLE_CHUNKS:
            break
    links, _ = link_sentences(chunks, [s for s, _ in sentences])
    _c_engine(["warm up"], query=False)
    timed = {}
    for name, texts in (("chunks", [c.search_text for c in chunks]), ("sentences", [t for _, t in sentences])):
        started = time.perf_counter()
        _c_engine(texts, query=False)
        timed[name] = time.perf_counter() - started
    per_chunk = {"embedded": (timed["chunks"] + timed["sentences"]) / len(chunks), "pooled": timed["sentences"] / len(chunks)}
    return {
        "sample_chunks": len(chunks),
        "sentences_per_chunk": round(len(sentences) / len(chunks), 2),
        "linked_sentences_per_chunk": round(len(links.indices) / len(chunks), 2),
        "passages_per_s": round((len(chunks) + len(sentences)) / (timed["chunks"] + timed["sentences"]), 1),
        "seconds_per_chunk": {k: round(v, 4) for k, v in per_chunk.items()},
        "hours_per_100k_chunks": {k: round(v * 100_000 / 3600, 1) for k, v in per_chunk.items()},
        "hours_per_1m_chunks": {k: round(v * 1_000_000 / 3600, 1) for k, v in per_chunk.items()},
    }


def markdown(results: dict) -> str:
    cost = results["cost"]
    lines = [
        "# Passage vectors: embedded or pooled from sentences",
        "",
        f"`python bench/chunk_vectors.py` on this machine. Model time (bundled model, C engine, uncached) on {cost['sample_chunks']} real CMRC chunks "
        f"and their {cost['sentences_per_chunk']} sentences per chunk ({cost['passages_per_s']} passages/s):",
        "",
        "| option | model passes per chunk | s per chunk | hours per 100k chunks | hours per 1M chunks |",
        "| --- | --- | --- | --- | --- |",
    ]
    for option in OPTIONS:
        passes = cost["sentences_per_chunk"] + (1 if option == "embedded" else 0)
        lines.append(f"| {option} | {passes:.2f} | {cost['seconds_per_chunk'][option]} | {cost['hours_per_100k_chunks'][option]} | {cost['hours_per_1m_chunks'][option]} |")
    lines += ["", "Hybrid retrieval and answers on the dev splits (`rag eval --set chunk_vectors=...`), embedded → pooled:", ""]
    lines += ["| set | scope | " + " | ".join(METRICS) + " |", "| --- | --- | " + " | ".join("---" for _ in METRICS) + " |"]
    for name, by_option in results["quality"].items():
        for scope in by_option["embedded"]:
            cells = [f"{by_option['embedded'][scope][m]:.3f} → {by_option['pooled'][scope][m]:.3f}" for m in METRICS]
            lines.append(f"| {name} dev | {scope} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="seed,cmrc,drcd", help="comma-separated: seed, cmrc, drcd")
    parser.add_argument("--cost-only", action="store_true", help="measure the model time again, keep the stored quality figures (the cost wants a quiet machine)")
    args = parser.parse_args()
    stored = RESULTS / "chunk_vectors.json"
    results: dict = {"cost": embedding_cost(), "quality": json.loads(stored.read_text())["quality"] if args.cost_only else {}}
    with tempfile.TemporaryDirectory() as tmp:
        for name, eval_args in ({} if args.cost_only else eval_sets(args.sets.split(","))).items():
            print(f"evaluating {name} ...", file=sys.stderr, flush=True)
            results["quality"][name] = {option: quality(eval_args, option, Path(tmp) / f"{name}-{option}") for option in OPTIONS}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "chunk_vectors.json").write_text(json.dumps(results, indent=1) + "\n")
    (RESULTS / "chunk_vectors.md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())

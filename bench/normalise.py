"""Throughput of the normalise stage: `search_form` over bench/scale.py's synthetic documents and the
seed corpus (and a sample of the public DRCD corpus, real Traditional text, when it is built).

    python bench/normalise.py --label before   # on the old code: records the "before" figures
    python bench/normalise.py                  # records "after" and the speed-up over "before"

Each figure is the best of `--repeat` passes, after one warm-up call that loads the dictionaries. A
digest of every search form (text and offsets) is recorded too: equal digests before and after show
the output did not change. Writes bench/results/normalise.{json,md}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from scale import machine, synthetic_docs  # noqa: E402

from rag.ingest.normalize import search_form  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PUBLIC = ROOT / "eval" / "public" / "build" / "drcd" / "corpus"
BEFORE_COMMIT = "252199b"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=3000, help="synthetic documents (bench/scale.py's generator)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--public", type=int, default=300, help="DRCD documents, if eval/public is built")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--label", choices=["before", "after"], default="after")
    args = parser.parse_args()
    started = time.perf_counter()
    search_form("臺灣的乾隆皇帝，５５月月１５日日。")
    setup_s = time.perf_counter() - started
    sets = {
        f"synthetic ({args.docs} docs, seed {args.seed})": synthetic_texts(args.docs, args.seed),
        "seed corpus": [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt"))],
    }
    if PUBLIC.is_dir():
        sets[f"DRCD public sample ({args.public} docs, Traditional)"] = [p.read_text(encoding="utf-8") for p in sorted(PUBLIC.glob("*.txt"))[: args.public]]
    run = {"setup_s": round(setup_s, 3), "sets": {name: measure(texts, args.repeat) for name, texts in sets.items()}, "machine": machine()}
    if args.label == "before":
        run["commit"] = BEFORE_COMMIT
    path = RESULTS / "normalise.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[args.label] = run
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    (RESULTS / "normalise.md").write_text(markdown(results))
    print(markdown(results))
    return 0


def synthetic_texts(count: int, seed: int) -> list[str]:
    """The first `count` documents of bench/scale.py's corpus (one chunk per document stops it there)."""
    corpus = synthetic_docs(count, seed, SimpleNamespace(chunk_size=10**9, chunk_overlap=0))
    return [d.text for d in corpus.documents]


def measure(texts: list[str], repeat: int) -> dict:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        forms = [search_form(t) for t in texts]
        best = min(best, time.perf_counter() - started)
    digest = hashlib.sha256()
    for form in forms:
        digest.update(form.text.encode() + b"\0" + form.offsets.tobytes())
    chars = sum(len(t) for t in texts)
    return {"documents": len(texts), "chars": chars, "seconds": round(best, 3), "chars_per_s": round(chars / best), "digest": digest.hexdigest()[:16]}


def markdown(results: dict) -> str:
    before, after = results.get("before", {}).get("sets", {}), results.get("after", {}).get("sets", {})
    lines = [
        "# Normalise stage throughput (`search_form`)",
        "",
        f"Before: the code of commit {BEFORE_COMMIT}. After: the current code. Best of several passes, after a warm-up call;",
        "the digest covers every search form's text and offsets (equal digests: identical output).",
        "",
        "| texts | chars | before chars/s | after chars/s | speed-up | same digest |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in dict.fromkeys([*before, *after]):
        b, a = before.get(name), after.get(name)
        speedup = f"{a['chars_per_s'] / b['chars_per_s']:.1f}x" if a and b else "–"
        same = ("yes" if a["digest"] == b["digest"] else "NO") if a and b else "–"
        rates = [f"{r['chars_per_s']:,}" if r else "–" for r in (b, a)]
        lines.append(f"| {name} | {(a or b)['chars']:,} | {rates[0]} | {rates[1]} | {speedup} | {same} |")
    setups = [f"{label} {results[label]['setup_s']} s" for label in ("before", "after") if label in results]
    lines += ["", f"First call (loads the dictionaries): {', '.join(setups)}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

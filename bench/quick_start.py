"""The README's Quick start, run as written on a fresh clone: each command's wall time and peak memory.

Clones this repository (its committed HEAD) into a temporary folder, reads the `bash` block under
`## Quick start` in the clone's README.md, and runs its commands one by one in the clone, each in
`bash` with the virtual environment the first one made activated. A new user's caches are emulated:
an empty `RAG_CACHE_DIR` (no cached vectors) and a fresh `TMPDIR` (jieba rebuilds its dictionary
cache). pip's own download cache is left as it is on the machine, and the report says whether it
had one: with it, "install" measures unpacking and building rather than downloading.

    python bench/quick_start.py            # writes bench/results/quick_start.{json,md}

A command that fails stops the run and the script exits non-zero: the README's instructions do
not work as written.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICK_START = re.compile(r"^## Quick start\n.*?```bash\n(?P<commands>.*?)```", re.DOTALL | re.MULTILINE)


def quick_start_commands(readme: str) -> list[str]:
    """The commands of the Quick start's first bash block, one per line, comments dropped."""
    match = QUICK_START.search(readme)
    if not match:
        raise SystemExit("README.md has no bash block under '## Quick start'")
    lines = (line.split(" #")[0].strip() for line in match.group("commands").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def run(command: str, cwd: Path, env: dict[str, str]) -> dict:
    """One command in bash (the clone's venv activated once it exists): wall time, peak RSS of the
    largest process it ran (wait4 reports the child with its waited-for descendants), its output's
    first and last lines."""
    script = f"set -e\n[ -f .venv/bin/activate ] && . .venv/bin/activate\n{command}\n"
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(["bash", "-c", script], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        output = out.read().decode("utf-8", errors="replace")
    lines = output.strip().splitlines()
    exit_code = os.waitstatus_to_exitcode(status)
    return {"command": command, "exit": exit_code, "wall_s": round(wall, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "output_head": lines[:8], "output_tail": lines[-8:]}


def pip_cache_mb() -> float:
    folder = Path(os.environ.get("PIP_CACHE_DIR", Path.home() / ".cache" / "pip"))
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1) if folder.is_dir() else 0.0


def markdown(report: dict) -> str:
    rows = "\n".join(f"| `{s['command']}` | {s['wall_s']} | {s['peak_rss_mb']} | {s['exit']} |" for s in report["steps"])
    answer = "\n".join(report["steps"][-1]["output_head"]) if report["steps"] else ""
    return (
        f"# Quick start on a fresh clone\n\n`python bench/quick_start.py` at commit {report['commit']}, {report['cpus']} CPUs, "
        f"pip download cache {report['pip_cache_mb']} MB.\n\n| command | wall s | peak RSS MB | exit |\n| --- | --- | --- | --- |\n{rows}\n\n"
        f"Total {report['total_s']} s. The last command's output begins:\n\n```text\n{answer}\n```\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="rag-quick-start-") as scratch:
        work = Path(scratch)
        clone = work / "rag"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        (work / "tmp").mkdir()
        venv = os.environ.get("VIRTUAL_ENV")
        path = [p for p in os.environ.get("PATH", os.defpath).split(os.pathsep) if not (venv and p.startswith(venv))]  # a new user's shell: no venv yet
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "VIRTUAL_ENV"))}
        env |= {"RAG_CACHE_DIR": str(work / "cache"), "TMPDIR": str(work / "tmp"), "PATH": os.pathsep.join(path)}
        steps = []
        for command in quick_start_commands((clone / "README.md").read_text(encoding="utf-8")):
            steps.append(run(command, clone, env))
            print(f"{steps[-1]['wall_s']:7.1f} s {steps[-1]['peak_rss_mb']:8.1f} MB  {command}", file=sys.stderr)
            if steps[-1]["exit"]:
                print("\n".join(steps[-1]["output_tail"]), file=sys.stderr)
                break
    report = {"commit": commit, "cpus": os.cpu_count(), "pip_cache_mb": pip_cache_mb(), "steps": steps, "total_s": round(sum(s["wall_s"] for s in steps), 1)}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quick_start.json").write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (args.out / "quick_start.md").write_text(markdown(report), encoding="utf-8")
    return 1 if any(s["exit"] for s in steps) else 0


if __name__ == "__main__":
    sys.exit(main())

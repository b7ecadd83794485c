"""Regenerate the README's quality tables from `rag eval` reports, or check that they match.

    python eval/readme_tables.py           # rewrite README.md from eval/reports/**/eval.json
    python eval/readme_tables.py --check   # print the tables; exit 1 if README.md differs

Each table in README.md sits between `<!-- table: PATH -->` and `<!-- end table -->`, where PATH
is the eval.json that `.ci/run` writes (`rag eval eval/qa.jsonl --out eval/reports` and the
held-out run). Quality figures are deterministic on a machine, so a fresh clone's CI run
reproduces them; latency is left out, as it varies run to run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from rag.evaluation.report import markdown_table

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(<!-- table: (?P<path>\S+) -->\n)(?P<body>(?:\|.*\n)*)(<!-- end table -->)")


def regenerate(readme: str) -> str:
    def table(match: re.Match) -> str:
        report = json.loads((ROOT / match.group("path")).read_text(encoding="utf-8"))
        return match.group(1) + markdown_table(report) + "\n" + match.group(4)

    return BLOCK.sub(table, readme)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print the tables and fail if README.md differs")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args()
    readme = args.readme.read_text(encoding="utf-8")
    updated = regenerate(readme)
    for match in BLOCK.finditer(updated):
        print(f"{match.group('path')}:\n{match.group('body')}")
    if args.check:
        if updated != readme:
            print("README.md's quality tables differ from these figures: run `python eval/readme_tables.py`", file=sys.stderr)
            return 1
        print("README.md's quality tables match")
        return 0
    args.readme.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Soak check of the web service: 16 clients for 10 minutes on loopback, mixing normal questions,
adversarial ones (2,000 random characters) and document writes, while a probe times /healthz
every second and the server's resident memory is sampled.

    python bench/soak.py                 # 600 s, writes bench/results/soak.{json,md}
    python bench/soak.py --seconds 60    # a shorter run

It starts `uvicorn serve:app` on a free loopback port over a temporary copy of corpus/ (the
writes must not touch the real one), with an API key for the writers. Reports p50/p99 of normal
questions, every status and error seen, /healthz latency (target p99 <= 50 ms) and RSS over time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from load_ask import ROOT, machine, start_server, wait_ready

KEY = "soak-key"
CLIENTS = "normal=10,adversarial=3,writer=2,search=1"  # 16 clients


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--clients", default=CLIENTS, help=f"clients of each kind (default {CLIENTS})")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "soak.json")
    args = parser.parse_args()
    clients = {kind: int(n) for kind, _, n in (part.partition("=") for part in args.clients.split(","))}
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)
        log = open(Path(tmp) / "server.log", "w")
        os.environ.update(RAG_CORPUS=str(corpus), RAG_INDEX=str(Path(tmp) / "index"), RAG_API_KEY=KEY)
        server, url = start_server(stderr=log)
        try:
            wait_ready(url)
            result = asyncio.run(soak(url, server.pid, questions, args.seconds, random.Random(args.seed), clients))
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
        result["access_log_lines"] = sum('" ' in line and line.rstrip().endswith(" ms") for line in (Path(tmp) / "server.log").read_text().splitlines())
    result.update(seconds=args.seconds, clients=clients, machine=machine())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))
    return 1 if result["server_errors"] or result["transport_errors"] else 0


async def soak(url: str, pid: int, questions: list[str], seconds: float, rng: random.Random, clients: dict[str, int]) -> dict:
    stop = time.monotonic() + seconds
    records: list[tuple[str, int, float]] = []  # kind, status (0: transport error), ms
    health: list[float] = []
    rss: list[tuple[float, float]] = []
    started = time.monotonic()

    async def timed(kind: str, request) -> None:
        began = time.perf_counter()
        try:
            status = (await request).status_code
        except httpx.HTTPError:
            status = 0
        records.append((kind, status, (time.perf_counter() - began) * 1000))

    async def normal(http: httpx.AsyncClient) -> None:
        while time.monotonic() < stop:
            await timed("normal", http.post("/v1/ask", json={"question": rng.choice(questions)}))

    async def adversarial(http: httpx.AsyncClient) -> None:
        alphabet = [chr(c) for c in range(0x4E00, 0x9FA5)] + list("abcdefghijklmnopqrstuvwxyz0123456789 ?!,.")
        while time.monotonic() < stop:
            noise = "".join(rng.choice(alphabet) for _ in range(2000))
            await timed("adversarial", http.post("/v1/ask", json={"question": noise}))

    async def writer(http: httpx.AsyncClient, number: int) -> None:
        auth = {"Authorization": f"Bearer {KEY}"}
        while time.monotonic() < stop:
            text = f"第{number}号测试城市今年签约了{rng.randrange(2, 99)}个新项目，总投资{rng.randrange(5, 500)}亿元。"
            await timed("write", http.post("/v1/documents", json={"id": f"soak-{number}.txt", "text": text}, headers=auth))
            await asyncio.sleep(3)
            await timed("delete", http.delete(f"/v1/documents/soak-{number}.txt", headers=auth))
            await asyncio.sleep(3)

    async def search(http: httpx.AsyncClient) -> None:
        while time.monotonic() < stop:
            await timed("search", http.get("/v1/search", params={"q": rng.choice(questions), "k": 10}))

    async def probe() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:  # its own connection, like an orchestrator's
            while time.monotonic() < stop:
                began = time.perf_counter()
                await http.get("/healthz")
                health.append((time.perf_counter() - began) * 1000)
                if not rss or time.monotonic() - started - rss[-1][0] >= 5:
                    rss.append((round(time.monotonic() - started, 1), resident_mb(pid)))
                await asyncio.sleep(1)

    async with httpx.AsyncClient(base_url=url, timeout=120, limits=httpx.Limits(max_connections=32)) as http:
        tasks = [normal(http) for _ in range(clients.get("normal", 0))]
        tasks += [adversarial(http) for _ in range(clients.get("adversarial", 0))]
        tasks += [writer(http, n) for n in range(clients.get("writer", 0))]
        tasks += [search(http) for _ in range(clients.get("search", 0))]
        await asyncio.gather(probe(), *tasks)
    return summarize(records, health, rss)


def summarize(records: list[tuple[str, int, float]], health: list[float], rss: list[tuple[float, float]]) -> dict:
    kinds: dict[str, dict] = {}
    for kind in sorted({k for k, _, _ in records}):
        rows = [(s, ms) for k, s, ms in records if k == kind]
        ok = [ms for s, ms in rows if 200 <= s < 300]
        statuses: dict[str, int] = {}
        for s, _ in rows:
            statuses[str(s)] = statuses.get(str(s), 0) + 1
        kinds[kind] = {"requests": len(rows), "statuses": statuses, **percentiles(ok, "ok_")}
    minute = [mb for t, mb in rss if t <= 60] or [rss[0][1]]
    last = [mb for t, mb in rss if t >= rss[-1][0] - 60]
    return {
        "requests": len(records),
        "kinds": kinds,
        "server_errors": sum(s >= 500 and s != 503 for _, s, _ in records),
        "shed_503": sum(s == 503 for _, s, _ in records),
        "transport_errors": sum(s == 0 for _, s, _ in records),
        "healthz_ms": percentiles(health, ""),
        "rss_mb": {"first_minute_mean": round(float(np.mean(minute)), 1), "last_minute_mean": round(float(np.mean(last)), 1), "max": max(mb for _, mb in rss), "samples": rss[:: max(1, len(rss) // 20)]},
    }


def percentiles(values: list[float], prefix: str) -> dict:
    if not values:
        return {}
    p50, p99 = np.percentile(values, [50, 99]).tolist()
    return {f"{prefix}p50_ms": round(p50, 1), f"{prefix}p99_ms": round(p99, 1), f"{prefix}max_ms": round(max(values), 1)}


def resident_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return round(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024, 1)


def markdown(r: dict) -> str:
    lines = [
        f"Soak: {r['seconds']:.0f} s, {sum(r['clients'].values())} clients ({', '.join(f'{n} {k}' for k, n in r['clients'].items())}), {r['requests']} requests.",
        "",
        "| kind | requests | statuses | p50 ms (2xx) | p99 ms (2xx) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for kind, k in r["kinds"].items():
        statuses = ", ".join(f"{s}: {n}" for s, n in sorted(k["statuses"].items()))
        lines.append(f"| {kind} | {k['requests']} | {statuses} | {k.get('ok_p50_ms', '-')} | {k.get('ok_p99_ms', '-')} |")
    h, m = r["healthz_ms"], r["rss_mb"]
    lines += [
        "",
        f"/healthz: p50 {h['p50_ms']} ms, p99 {h['p99_ms']} ms, max {h['max_ms']} ms. Server errors (5xx but 503): {r['server_errors']}; "
        f"shed with 503: {r['shed_503']}; transport errors: {r['transport_errors']}; access-log lines: {r.get('access_log_lines')}.",
        f"RSS: first minute {m['first_minute_mean']} MB, last minute {m['last_minute_mean']} MB, max {m['max']} MB.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())

"""Load check for `POST /v1/ask`: N concurrent clients on loopback send a bounded number of dev-set
questions; reports throughput and p50/p95/p99 latency, and fails on any error.

    python bench/load_ask.py --concurrency 8 --requests 400
    python bench/load_ask.py --url http://127.0.0.1:8000   # against a server you started

Without --url it starts `uvicorn serve:app` itself on a free port and waits for /readyz.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--url", default=None, help="an already running server (default: start one)")
    parser.add_argument("--qa", type=Path, default=ROOT / "eval" / "qa.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load_ask.json")
    args = parser.parse_args()
    if args.concurrency < 1 or args.requests < 1:
        parser.error("--concurrency and --requests must be positive")
    questions = [json.loads(line)["question"] for line in args.qa.read_text(encoding="utf-8").splitlines() if line.strip()]

    server = None
    url = args.url
    if url is None:
        server, url = start_server()
    try:
        wait_ready(url)
        result = asyncio.run(run_load(url, questions, args.concurrency, args.requests))
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)

    result.update(concurrency=args.concurrency, machine=machine())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{result['requests']} requests, {args.concurrency} clients: {result['throughput_rps']:.1f} req/s, "
        f"p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
        f"errors {result['errors']}  -> {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}"
    )
    return 1 if result["errors"] else 0


def start_server(stderr=None) -> tuple[subprocess.Popen, str]:
    """`uvicorn serve:app` on a free loopback port (settings from this process's environment)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "uvicorn", "serve:app", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ}, stderr=stderr), f"http://127.0.0.1:{port}"


def wait_ready(url: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"server at {url} not ready after {timeout:.0f} s")


async def run_load(url: str, questions: list[str], concurrency: int, total: int) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(total))

    async def client(http: httpx.AsyncClient) -> None:
        for i in counter:
            started = time.perf_counter()
            try:
                response = await http.post("/v1/ask", json={"question": questions[i % len(questions)]})
                if response.status_code != 200 or "citations" not in response.json():
                    errors.append(f"HTTP {response.status_code}")
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)
            latencies.append((time.perf_counter() - started) * 1000)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99]).tolist()
    return {
        "requests": total,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "seconds": round(elapsed, 2),
        "throughput_rps": round(total / elapsed, 2),
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "p99_ms": round(p99, 1),
    }


def machine() -> dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


if __name__ == "__main__":
    sys.exit(main())

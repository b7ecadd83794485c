"""Wall-clock laps in milliseconds: per-stage timings for answers and index builds."""

from __future__ import annotations

import time


class Stopwatch:
    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round((now - self.last) * 1000, 2)
        self.laps["total"] = round((now - self.started) * 1000, 2)
        self.last = now

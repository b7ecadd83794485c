"""How a build shows its progress: one display per stage, with honest names and counts."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm

logger = logging.getLogger("rag.index.build")  # the build's own logger: `rag -q` silences it with the rest


def counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class Stage:
    """A running stage: `advance(n)` as its items get done (`cached`: found in the embedding
    cache); `outcome` (optional) is said at its end."""

    def __init__(self, bar: tqdm) -> None:
        self.bar, self.outcome, self.cached = bar, "", 0

    def advance(self, done: int = 1, cached: bool = False) -> None:
        self.bar.update(done)
        self.cached += done if cached else 0

    def summary(self) -> str:
        return ", ".join(part for part in (self.outcome, f"{self.cached} from the embedding cache" if self.cached else "") if part)


class BuildProgress:
    """The one place a build shows its progress: one display per stage, on stderr, and only when
    the `rag` logger shows INFO (so `rag -q`, and library callers that set up no logging, see
    nothing). On a terminal, a stage that counts things gets a live bar, left in place when it
    ends (`rag: embed 150 passages: 100%|...| 150/150 [00:09<00:00, 16.6passage/s]`); otherwise,
    and for stages that count nothing, one short log line as the stage ends (`rag: embed 150
    passages in 9.1 s`)."""

    def __init__(self) -> None:
        self.shown = logger.isEnabledFor(logging.INFO)
        self.live = self.shown and sys.stderr.isatty() and _has_room(sys.stderr)

    @contextmanager
    def stage(self, name: str, total: int | None = None, unit: str = "") -> Iterator[Stage]:
        started = time.perf_counter()
        live = self.live and total is not None
        bar = tqdm(total=total, desc=f"rag: {name}", unit=unit, file=sys.stderr, leave=True, disable=not live, dynamic_ncols=True)
        stage = Stage(bar)
        try:
            yield stage
        finally:  # an error or ^C ends the bar's line before its message
            if live and stage.summary():
                bar.set_postfix_str(stage.summary(), refresh=False)
            bar.close()
        if not live:
            self.stage_done(name, time.perf_counter() - started, stage.summary())

    def stage_done(self, name: str, seconds: float, outcome: str = "") -> None:
        """A stage that shows no bar, as one line once it is over."""
        if self.shown:
            logger.info("%s in %.1f s%s", name, seconds, f": {outcome}" if outcome else "")


def _has_room(stream: Any) -> bool:
    """Whether the terminal has room for a bar: some pseudo-terminals report a size of 0 (tqdm
    would then draw nothing at all)."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return size.columns >= 40 and size.lines > 0

"""How the server schedules questions: one at a time, on a thread of their own, shortest first.

One at a time, because the encoder already uses every core. On their own thread, never the
server's shared thread pool, so health probes and listings stay fast however many questions wait.
Shortest first, because a question's cost grows with its length (up to `max_analysed_chars`): a
flood of 2,000-character questions then delays everyone else's ten-word ones less. At most
`limit` wait, and each gets `deadline` seconds, waiting included; beyond either, a 503 with
Retry-After. A question dropped while it waits is never started.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from rag.api.errors import ApiError

T = TypeVar("T")
RETRY_AFTER = 2  # seconds a refused client is asked to wait


class QuestionQueue:
    def __init__(self, limit: int, deadline: float):
        self.limit, self.deadline = limit, deadline
        self.pending = 0  # queued or running
        self._jobs: queue.PriorityQueue[tuple[int, int, Future[Any] | None, Callable[[], Any] | None]] = queue.PriorityQueue()
        self._order = itertools.count()  # equal costs keep their arrival order
        self._count = threading.Lock()
        self._worker = threading.Thread(target=self._serve, name="rag-question", daemon=True)
        self._worker.start()

    async def run(self, work: Callable[[], T], cost: int) -> T:
        """`work()` on the question thread, after the waiting questions that cost less."""
        with self._count:
            if self.pending > self.limit:
                raise self._busy(f"{self.pending} questions are waiting")
            self.pending += 1
        future: Future[T] = Future()
        future.add_done_callback(self._finished)
        self._jobs.put((cost, next(self._order), future, work))
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.deadline)  # cancels it if still waiting
        except TimeoutError:
            raise self._busy(f"no answer within {self.deadline:g} s") from None

    def stop(self) -> None:
        """Questions still waiting get a 503; the one running finishes."""
        self._jobs.put((-1, -1, None, None))  # ahead of everything: the worker ends

    def _serve(self) -> None:
        stopping = False
        while not (stopping and self._jobs.empty()):
            _, _, future, work = self._jobs.get()
            if future is None or work is None:
                stopping = True
                continue
            if not future.set_running_or_notify_cancel():  # given up on while it waited
                continue
            if stopping:
                future.set_exception(self._busy("the server is stopping"))
                continue
            try:
                future.set_result(work())
            except BaseException as exc:  # handed to the waiting request, which reports it
                future.set_exception(exc)

    def _finished(self, _future: Future[Any]) -> None:
        with self._count:
            self.pending -= 1

    @staticmethod
    def _busy(why: str) -> ApiError:
        return ApiError(503, f"{why}: the server is busy, retry shortly", "service_unavailable", {"Retry-After": str(RETRY_AFTER)})

"""How the server schedules questions: one at a time, on a thread of their own, short ones first.

One at a time, because the encoder already uses every core. On their own thread, never the
server's shared thread pool, so health probes and listings stay fast however many questions wait.
Short ones first: a question's cost grows with its length (up to `max_analysed_chars`), so its
turn is its arrival time plus `DELAY_PER_CHAR` a character: a flood of 2,000-character questions
delays a ten-word one little, yet a long question is never starved (it waits at most ~3 s more
than a short one that came with it). At most `limit` wait, and each gets `deadline` seconds,
waiting included; beyond either, a 503 with Retry-After. A question given up on while it waits is
never started, and lets go of what it holds at once (an old engine, say).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from rag.api.errors import ApiError

T = TypeVar("T")
RETRY_AFTER = 2  # seconds a refused client is asked to wait
DELAY_PER_CHAR = 0.01  # seconds of queue priority a character costs: 300 characters, 3 s


class Job:
    __slots__ = ("future", "work")

    def __init__(self, future: Future[Any], work: Callable[[], Any] | None):
        self.future, self.work = future, work


class QuestionQueue:
    def __init__(self, limit: int, deadline: float):
        self.limit, self.deadline = limit, deadline
        self.pending = 0  # queued or running
        self._heap: list[tuple[float, int, Job]] = []
        self._order = itertools.count()  # equal turns keep their arrival order
        self._ready = threading.Condition()
        self._stopping = False

    def start(self) -> None:
        threading.Thread(target=self._serve, name="rag-question", daemon=True).start()

    async def run(self, work: Callable[[], T], cost: int) -> T:
        """`work()` on the question thread, in turn (arrival + DELAY_PER_CHAR x cost)."""
        future: Future[T] = Future()
        job = Job(future, work)
        with self._ready:
            if self.pending > self.limit:
                raise self._busy(f"{self.pending} questions are waiting")
            self.pending += 1
            future.add_done_callback(lambda _: self._finished(job))
            heapq.heappush(self._heap, (time.monotonic() + DELAY_PER_CHAR * cost, next(self._order), job))
            self._ready.notify()
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.deadline)  # cancels it if still waiting
        except TimeoutError:
            raise self._busy(f"no answer within {self.deadline:g} s") from None

    def stop(self) -> None:
        """Questions still waiting get a 503; the one running finishes."""
        with self._ready:
            self._stopping = True
            self._ready.notify()

    def _serve(self) -> None:
        while True:
            with self._ready:
                while not self._heap and not self._stopping:
                    self._ready.wait()
                if not self._heap:
                    return
                _, _, job = heapq.heappop(self._heap)
                stopping = self._stopping
            work = job.work
            if work is None or not job.future.set_running_or_notify_cancel():  # given up on while it waited
                continue
            if stopping:
                job.future.set_exception(self._busy("the server is stopping"))
                continue
            try:
                job.future.set_result(work())
            except BaseException as exc:  # handed to the waiting request, which reports it
                job.future.set_exception(exc)

    def _finished(self, job: Job) -> None:
        with self._ready:
            self.pending -= 1
            job.work = None  # a cancelled job may sit in the heap a while: it holds nothing
            if len(self._heap) > 4 * (self.limit + 1):  # drop the cancelled ones the heap still holds
                self._heap = [entry for entry in self._heap if entry[2].work is not None]
                heapq.heapify(self._heap)

    @staticmethod
    def _busy(why: str) -> ApiError:
        return ApiError(503, f"{why}: the server is busy, retry shortly", "service_unavailable", {"Retry-After": str(RETRY_AFTER)})

"""The server's question scheduling: one at a time, shortest first, bounded, with a deadline."""

import asyncio
import threading
import time

import pytest

from rag.api.errors import ApiError
from rag.api.questions import QuestionQueue


def test_questions_run_one_at_a_time_shortest_first():
    order, gate = [], threading.Event()

    async def scenario():
        queue = QuestionQueue(limit=10, deadline=10)
        queue.start()
        first = asyncio.ensure_future(queue.run(lambda: (gate.wait(5), order.append("first")), cost=50))
        await asyncio.sleep(0.05)  # the first one is running and holds the thread
        waiting = [asyncio.ensure_future(queue.run(lambda c=c: order.append(c), cost=c)) for c in (900, 5, 300, 5)]
        await asyncio.sleep(0.05)
        gate.set()
        await asyncio.gather(first, *waiting)
        queue.stop()

    asyncio.run(scenario())
    assert order == ["first", 5, 5, 300, 900]


def test_a_full_queue_and_a_missed_deadline_are_503s_with_retry_after():
    async def scenario():
        queue = QuestionQueue(limit=1, deadline=0.3)
        queue.start()
        slow = [asyncio.ensure_future(queue.run(lambda: time.sleep(0.5), cost=1)) for _ in range(2)]
        await asyncio.sleep(0.05)
        with pytest.raises(ApiError) as full:
            await queue.run(lambda: None, cost=1)
        results = await asyncio.gather(*slow, return_exceptions=True)
        queue.stop()
        return full.value, results

    full, results = asyncio.run(scenario())
    assert full.status == 503 and "waiting" in full.message and full.headers == {"Retry-After": "2"}
    late = [r for r in results if isinstance(r, ApiError)]
    assert late and all("no answer within 0.3 s" in r.message for r in late)


def test_an_error_in_a_question_reaches_its_request_and_the_queue_goes_on():
    async def scenario():
        queue = QuestionQueue(limit=5, deadline=5)
        queue.start()
        with pytest.raises(ZeroDivisionError):
            await queue.run(lambda: 1 / 0, cost=1)
        answer = await queue.run(lambda: 42, cost=1)
        queue.stop()
        return answer, queue.pending

    assert asyncio.run(scenario()) == (42, 0)


def test_a_long_question_waits_a_bounded_while_not_for_ever():
    order = []

    async def scenario():
        queue = QuestionQueue(limit=100, deadline=10)
        queue.start()
        jobs = [asyncio.ensure_future(queue.run(lambda: (time.sleep(0.02), order.append("long")), cost=30))]  # its turn: 0.3 s on
        for i in range(40):  # short questions keep arriving for ~1.2 s, more than the thread can take
            jobs.append(asyncio.ensure_future(queue.run(lambda i=i: (time.sleep(0.05), order.append(i)), cost=1)))
            await asyncio.sleep(0.03)
        await asyncio.gather(*jobs)
        queue.stop()

    asyncio.run(scenario())
    assert 0 < order.index("long") < 30  # after the short ones that came in its first 0.3 s, before the rest

"""Limits that keep one client from taking ``qa serve``: a cap on the requests waiting for the
model (429 "busy, N waiting"), a wait timeout, and per-user rates (questions, sign-ins)."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from qa.errors import BusyError, TimedOutError
from qa.interfaces.api import Turns


class Queue(Turns):
    """``Turns`` with a cap and a timeout. Waiting counts the API's requests and, through
    ``others``, the chat page's (Gradio's queue): the cap is on both together."""

    def __init__(self, cap: int, timeout: float, others: Callable[[], int] = lambda: 0) -> None:
        super().__init__()
        self.cap, self.timeout, self.others = cap, timeout, others

    def total_waiting(self) -> int:
        return self.waiting + self.others()

    def admit(self) -> None:
        """Raise ``BusyError`` when the queue is full (the page's join and the API ask this)."""
        waiting = self.total_waiting()
        if waiting >= self.cap:
            raise BusyError(f"busy, {waiting} waiting: try again shortly", retry_after=5)

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._count:  # checked and counted at once: two at the door cannot both pass
            waiting = self.waiting + self.others()
            if waiting >= self.cap:
                raise BusyError(f"busy, {waiting} waiting: try again shortly", retry_after=5)
            self.waiting += 1
        began = time.perf_counter()
        got = self._lock.acquire(timeout=self.timeout)
        with self._count:
            self.waiting -= 1
        if not got:
            raise TimedOutError(f"waited {self.timeout:g} s for the model: try again later")
        try:
            self.answering = True
            self.last_wait_s = round(time.perf_counter() - began, 3)
            yield
        finally:
            self.answering = False
            self._lock.release()


class Rate:
    """At most ``per_minute`` events per key in any sliding minute."""

    def __init__(self, per_minute: int, what: str) -> None:
        self.per_minute, self.what = per_minute, what
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def hit(self, key: str) -> None:
        """Count one event for ``key``, or raise ``BusyError`` if that would be too many."""
        now = time.monotonic()
        with self._lock:
            seen = self._seen[key]
            while seen and seen[0] <= now - 60:
                seen.popleft()
            if len(seen) >= self.per_minute:
                wait = math.ceil(60 - (now - seen[0]))
                raise BusyError(
                    f"too many {self.what}: {self.per_minute} a minute; try again in {wait} s",
                    retry_after=wait,
                )
            seen.append(now)

"""Pacing: at most N posts a minute to one robot URL, as the chat platforms allow (WeCom,
DingTalk and Feishu robots refuse the 21st post within a minute), and a pause after a
rate-limit answer.

One ``Pacer`` serves every pass of a process (``shared()``), so passes that follow each other
closely stay within the limit too. Its clock and sleep are injectable: tests drive it, and the
fake robots' own windows, with one time source that advances instead of waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable

_SLICE = 1.0  # seconds


class Pacer:
    """A sliding window per URL: a post may go when fewer than ``limit`` went in the last
    ``period`` seconds and no rate-limit answer asked to hold off."""

    def __init__(
        self,
        *,
        period: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.period = period
        self.monotonic = monotonic
        self.sleep = sleep
        self._sent: dict[str, deque[float]] = defaultdict(deque)
        self._held: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def delay(self, url: str, limit: int) -> float:
        """Seconds until a post to ``url`` may go (0: now)."""
        now = self.monotonic()
        sent = self._sent[url]
        while sent and sent[0] <= now - self.period:
            sent.popleft()
        wait = self._held.get(url, now) - now
        if limit and len(sent) >= limit:
            wait = max(wait, sent[-limit] + self.period - now)
        return max(wait, 0.0)

    async def send(
        self,
        url: str,
        limit: int,
        max_wait: float,
        send: Callable[[], Awaitable[None]],
        stop: Callable[[], bool] = lambda: False,
    ) -> float:
        """Wait for a turn to post to ``url`` and ``send`` (0.0); or, when the turn is more
        than ``max_wait`` seconds off or ``stop()`` turns true meanwhile, send nothing and
        return how far off it is.

        Posts to one URL go one at a time and count from when the answer came: the robot saw
        the post no later than that, so its own window never holds more than ours."""
        if not limit and self.delay(url, 0) == 0:
            await send()
            return 0.0
        async with self._lock(url):
            while (wait := self.delay(url, limit)) > 0:
                if wait > max_wait or stop():
                    return wait
                await self.sleep(min(wait, _SLICE))  # short naps: a stop is heard soon
            try:
                await send()
            finally:
                self._sent[url].append(self.monotonic())
            return 0.0

    def hold(self, url: str, seconds: float) -> None:
        """The robot answered "too many": nothing more to it for ``seconds``."""
        self._held[url] = max(self._held.get(url, 0.0), self.monotonic() + seconds)

    def _lock(self, url: str) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # every pass runs its own event loop; locks belong to one
            self._loop, self._locks = loop, {}
        return self._locks.setdefault(url, asyncio.Lock())


_shared = Pacer()


def shared() -> Pacer:
    """The process's pacer: every pass of ``duban scheduler`` counts posts in one place."""
    return _shared

"""Real headless Chromium for browser tests, and an aiohttp app served from a thread.

Chromium and its driver are Debian's (``make browser`` installs the ``chromium`` and
``chromium-driver`` packages); nothing is downloaded at test time: selenium is given both
paths, so Selenium Manager has nothing to look for.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from aiohttp import web
from selenium import webdriver
from selenium.webdriver.chrome.service import Service as DriverService

CHROMIUM = os.environ.get("PAGER_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PAGER_CHROMEDRIVER", "/usr/bin/chromedriver")
T = TypeVar("T")


def chromium(width: int = 1400, height: int = 1000) -> webdriver.Chrome:
    """A headless Chromium driven through Debian's chromedriver."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",  # running as root in CI
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-extensions",
        "--no-first-run",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=DriverService(CHROMEDRIVER), options=options)
    # A form post's click may return before the next page has loaded: element lookups
    # wait for it (up to 10 s) instead of failing at once.
    driver.implicitly_wait(10)
    return driver


class ThreadedApp:
    """Runs an event loop in a thread; serves an aiohttp app on 127.0.0.1 from it.

    ``setup`` (a coroutine function run on that loop first) returns the app; ``run(coro)``
    runs more coroutines there (e.g. ingesting an event) from the test's thread.
    """

    def __init__(self, setup: Callable[[], Awaitable[web.Application]]) -> None:
        self._setup = setup
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    def __enter__(self) -> ThreadedApp:
        self._thread.start()
        self.port = self.run(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            self.run(self._runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _start(self) -> int:
        runner = web.AppRunner(await self._setup(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        return int(runner.addresses[0][1])

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

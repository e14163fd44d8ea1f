"""The report page in a real headless Chromium: the charts' SVG is drawn as matplotlib
styled it under the page's Content-Security-Policy (its style attributes are not
blocked), inside the status page's look, reached from the status page's navigation.

``PAGER_SCREENSHOTS=DIR`` also saves the screenshot into DIR.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from PIL import Image
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from pager.config.load import load_config
from pager.core.events import parse_event
from pager.daemon.service import Service
from testkit.browser import ThreadedApp, chromium
from tests.web.rig import NOW, SECRET, Clock, build, make_config_dir, opened

pytestmark = pytest.mark.timeout(180)


class Site:
    """The status site over a store that the config's ``store`` names (the report reads it)."""

    def __init__(self, tmp: Path) -> None:
        self.store = tmp / "pager.db"
        self.config = load_config(
            make_config_dir(tmp),
            require_secrets=True,
            environ={"PAGER_STORE": f"sqlite:{self.store}"},
        )
        self.service: Service | None = None
        self.app = ThreadedApp(self._setup)

    async def _setup(self) -> web.Application:
        self.service, server = build(self.config, self.store, Clock())
        await self.service.start()
        return server.app()

    async def history(self) -> None:
        """Tickets over the last days, their ladders run to NOW (pages, escalations)."""
        assert self.service is not None
        start = NOW - timedelta(days=3)
        for n in range(6):
            at = start + timedelta(hours=7 * n)
            payload = opened(f"T-{n}", at=at, severity=1 + n % 3)
            await self.service.ingest(parse_event(payload), at, payload)
        at = start
        while at < NOW:
            at += timedelta(minutes=15)
            await self.service.fire_due(at)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    found = Site(tmp_path)
    with found.app:
        yield found
        assert found.service is not None
        found.app.run(found.service.close())


def test_report_page_draws_its_charts(site: Site, tmp_path: Path) -> None:
    site.app.run(site.history(), timeout=120)
    browser: webdriver.Chrome = chromium()
    try:
        browser.get(site.app.url + "/status")
        browser.find_element(By.NAME, "password").send_keys(SECRET)
        browser.find_element(By.CSS_SELECTOR, "form.login button").click()
        browser.find_element(By.LINK_TEXT, "SLA and on-call report").click()
        assert browser.title == "pager: SLA and on-call report"
        figures = browser.find_elements(By.CSS_SELECTOR, "figure.chart svg")
        assert len(figures) == 3
        assert all(f.size["width"] > 300 and f.size["height"] > 100 for f in figures)
        # Each chart's background is matplotlib's white (a style attribute): under a CSP
        # that blocked inline styles it would be SVG's default black.
        for figure in figures:
            background = figure.find_element(By.CSS_SELECTOR, "#patch_1 path")
            assert background.value_of_css_property("fill") == "rgb(255, 255, 255)"
        # The heat map is a data: PNG inside its SVG: drawn in OrRd's reds, not replaced
        # by the broken-image icon a CSP without ``img-src data:`` gives.
        heat = tmp_path / "heat.png"
        assert figures[1].screenshot(str(heat))
        with Image.open(heat) as image:
            colours = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
        assert any(r > 100 and g < 60 and b < 60 for _, (r, g, b) in colours)
        # The page's own stylesheet applies too (the status page's look).
        heading = browser.find_element(By.CSS_SELECTOR, "header .sub")
        assert heading.value_of_css_property("color") == "rgba(119, 119, 119, 1)"
        # The form asks again for another tier.
        browser.find_element(By.CSS_SELECTOR, "select[name=tier] option[value=premier]").click()
        browser.find_element(By.CSS_SELECTOR, "form.report button").click()

        # The click loads a new page. Until it is in, a read may see the old heading, or
        # fail as the old document goes away (chromium says stale element, or "node does
        # not belong to the document"): read again until the new heading is there.
        def heading_text(driver: webdriver.Chrome) -> str:
            return str(driver.find_element(By.CSS_SELECTOR, "#report h2").text)

        wait = WebDriverWait(browser, 30, ignored_exceptions=(WebDriverException,))
        wait.until(lambda driver: "tier premier" in heading_text(driver))
        assert "tier premier" in heading_text(browser)
        browser.set_window_size(1400, 1000)
        height = browser.execute_script("return document.body.scrollHeight")
        browser.set_window_size(1400, int(height) + 40)
        shot = tmp_path / "report-page.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 20_000
        target = os.environ.get("PAGER_SCREENSHOTS")
        if target:
            shutil.copy(shot, Path(target) / "report-page.png")
    finally:
        browser.quit()

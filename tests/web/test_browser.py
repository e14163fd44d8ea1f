"""The status page in a real headless Chromium (Debian's, through selenium).

The site runs on a thread's event loop with a real Service and store; its clock is fixed
at ``rig.NOW`` so the page's answers are the hand-derived ones in tests/web/rig.py.
``PAGER_SCREENSHOTS=DIR`` also saves the screenshots the README shows into DIR
(``PAGER_SCREENSHOTS=docs .venv/bin/pytest tests/web/test_browser.py``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp import web
from selenium import webdriver
from selenium.webdriver.common.by import By

from pager.daemon.service import Service
from testkit.browser import ThreadedApp, chromium
from tests.web.rig import NOW, SECRET, Clock, build, load, make_config_dir, open_ticket

pytestmark = pytest.mark.timeout(180)


class Site:
    def __init__(self, tmp: Path) -> None:
        self.config = load(make_config_dir(tmp))
        self.tmp = tmp
        self.service: Service | None = None
        self.app = ThreadedApp(self._setup)

    async def _setup(self) -> web.Application:
        self.service, server = build(self.config, self.tmp / "pager.db", Clock())
        await self.service.start()
        return server.app()

    def open(self, ticket_id: str, **kwargs: object) -> None:
        assert self.service is not None
        self.app.run(open_ticket(self.service, ticket_id, **kwargs))


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    driver = chromium()
    yield driver
    driver.quit()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    found = Site(tmp_path)
    with found.app:
        yield found
        assert found.service is not None
        found.app.run(found.service.close())


def login(browser: webdriver.Chrome, site: Site, path: str = "/status") -> None:
    browser.delete_all_cookies()
    browser.get(site.app.url + path)
    assert browser.find_elements(By.CSS_SELECTOR, "form.login")
    browser.find_element(By.NAME, "password").send_keys(SECRET)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    browser.find_element(By.ID, "oncall")  # waits for the status page to load


def test_without_the_password_the_page_is_refused(browser: webdriver.Chrome, site: Site) -> None:
    site.open("T-1")
    browser.delete_all_cookies()
    browser.get(site.app.url + "/status")
    assert browser.title == "pager: sign in"
    assert "T-1" not in browser.page_source and "Ana Dobre" not in browser.page_source
    browser.find_element(By.NAME, "password").send_keys("wrong")
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()
    assert browser.find_element(By.CSS_SELECTOR, "p.error").text == "Wrong password."
    assert browser.title == "pager: sign in"
    browser.get(site.app.url + "/api/tickets")
    assert "unauthorized" in browser.page_source


def test_page_shows_oncall_coverage_and_updates(browser: webdriver.Chrome, site: Site) -> None:
    login(browser, site, "/status?rotation=gappy&week=2026-W49")
    assert browser.title == "pager: on call and open tickets"
    # On call at rig.NOW (derived by hand in tests/web/rig.py).
    who = {
        row.get_attribute("data-rotation"): row.find_element(By.CSS_SELECTOR, "td.person").text
        for row in browser.find_elements(By.CSS_SELECTOR, "table.oncall tbody tr")
    }
    assert who["support-engineers"].startswith("Ana Dobre")
    assert who["duty-managers"].startswith("Ioana Marin")
    assert who["gappy"].startswith("Dung Tran")
    # gappy's coverage: one region lane, then overlap and pages; six red gaps.
    svg = browser.find_element(By.CSS_SELECTOR, "svg.coverage")
    assert svg.get_attribute("data-rotation") == "gappy"
    lanes = [g.get_attribute("data-region") for g in svg.find_elements(By.CSS_SELECTOR, "g.lane")]
    assert lanes == ["office", "overlap", "pages"]
    gaps = svg.find_elements(By.CSS_SELECTOR, "rect.gap")
    assert len(gaps) == 6 and {g.get_attribute("fill") for g in gaps} == {"#d62728"}
    assert svg.size["width"] > 500  # laid out, not collapsed
    segments = svg.find_elements(By.CSS_SELECTOR, "g.lane[data-region=office] rect.seg")
    assert len(segments) == 5
    assert {s.get_attribute("data-person") for s in segments} == {"dung"}
    assert browser.find_element(By.XPATH, "//p[text()='No open tickets.']")
    # An event arrives: the next load lists the ticket.
    site.open("T-77", summary="checkout failing")
    browser.refresh()
    row = browser.find_element(By.CSS_SELECTOR, "tr[data-ticket=T-77]")
    assert "checkout failing" in row.text and "Acme" in row.text
    row.find_element(By.LINK_TEXT, "T-77").click()
    assert "opened: severity 1" in browser.find_element(By.CSS_SELECTOR, "ol.timeline").text


def test_screenshots(browser: webdriver.Chrome, site: Site) -> None:
    """A realistic page: tickets of several severities, one past its respond-by."""
    site.open("T-1042", summary="gateway down", at=NOW - timedelta(hours=3))
    site.open("T-1043", severity=2, summary="slow dashboard")
    site.open("T-1044", severity=3, summary="export fails for one report")
    login(browser, site, "/status?rotation=support-engineers&week=2026-W49")
    browser.set_window_size(1400, 1400)
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1400, int(height) + 40)
    assert browser.find_elements(By.CSS_SELECTOR, "tr.ticket.breached")
    svg = browser.find_element(By.CSS_SELECTOR, "svg.coverage")
    assert svg.find_elements(By.CSS_SELECTOR, "rect.holiday")  # EMEA's 30 Nov and 1 Dec
    page, picture = site.tmp / "status-page.png", site.tmp / "coverage.png"
    assert browser.save_screenshot(str(page))
    assert svg.screenshot(str(picture))
    assert page.stat().st_size > 10_000 and picture.stat().st_size > 5_000
    target = os.environ.get("PAGER_SCREENSHOTS")
    if target:
        shutil.copy(page, Path(target) / "status-page.png")
        shutil.copy(picture, Path(target) / "coverage.png")

"""The machinery of the browser tests (tests/test_site.py), without the book.

One page that cannot be visited (a timeout, a browser that went away) fails that page's
checks, each naming the page, and nothing else: every other page's checks pass, checks over
all pages name the page they could not look at, and no test errors. Screenshots are
evidence that cannot fail a check. All of it runs with a stand-in for the browser, except
the last test, which drives the real one over two tiny pages.
"""

from __future__ import annotations

import http.server
import re
import threading
import warnings
from urllib.parse import urljoin

import pytest
import test_site as site_tests
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from browser import BrowserNotFound
from conftest import serve_handler

pytest_plugins = ["pytester"]

SLOW = "zh/book/03_fcnn_equations"  # times out in light mode
GONE = "book/api"  # its phone visit finds the browser gone


def clean_page(page: str, mode: str, site_url: str) -> dict:
    """What a visit of a faultless page returns."""
    nb = site_tests.english(page)
    return {
        "status": 200,
        "mathjax": None,
        "errors": [],
        "external": [],
        "theme": "dark" if mode == "dark" else "light",
        "text": "",
        "outputs": [],
        "nMath": 0,
        "mathUntypeset": [],
        "nMjx": 0,
        "mjxErrors": [],
        "images": [],
        "links": [],
        "hrefs": [
            f"https://colab.research.google.com/github/o/r/blob/{site_tests.repository_ref()}/"
            f"{site_tests.notebook_path(page)}.ipynb",
            f"../_sources/{nb}.ipynb",
        ],
        "tracebacks": [],
        "switch": [urljoin(site_url, f"{site_tests.other_language(page)}.html")],
        "lang": "zh-CN" if page.startswith(site_tests.ZH) else "en",
        "prose": [],
        "widgets": 0,
        "scrollWidth": site_tests.PHONE["width"],
        "screen": site_tests.PHONE["width"],
        "offenders": [],
    }


class FakeBrowser:
    """Visits: faultless pages, except SLOW (a timeout in light mode) and GONE (its phone visit)."""

    def __init__(self, site_url: str):
        self.site_url = site_url
        self.calls: list[tuple[str, str]] = []
        self.shots: list[tuple[str, str]] = []

    def visit(self, page: str, mode: str) -> dict:
        self.calls.append((page, mode))
        if (page, mode) == (SLOW, "light"):
            raise PlaywrightTimeoutError("Page.goto: Timeout 90000ms exceeded.")
        if (page, mode) == (GONE, "phone"):
            raise RuntimeError("Target page, context or browser has been closed")
        return clean_page(page, mode, self.site_url)

    def screenshot(self, page: str, mode: str):
        self.shots.append((page, mode))
        raise OSError("no space left on device")


# --- Visits, on its own ---------------------------------------------------------------------


def test_a_failed_visit_fails_that_page_only_and_is_not_repeated():
    browser = FakeBrowser("http://127.0.0.1:1/")
    site = site_tests.Visits(browser.visit, browser.screenshot)
    for _ in range(3):  # three of the page's tests
        with pytest.raises(pytest.fail.Exception) as failed:
            site.seen(SLOW)
        msg = str(failed.value)
        assert msg.startswith(f"{SLOW} (light): could not be visited: TimeoutError: Page.goto: Timeout"), msg
    assert browser.calls.count((SLOW, "light")) == 1, (
        "a page that timed out must cost one timeout, not one per test"
    )
    assert site.seen("book/intro")["status"] == 200
    assert site.seen(SLOW, "phone")["status"] == 200  # the same page in another mode is its own visit
    seen, failed = site.seen_all([(SLOW, "light"), ("book/intro", "light"), (GONE, "phone")])
    assert set(seen) == {("book/intro", "light")}
    assert set(failed) == {(SLOW, "light"), (GONE, "phone")}
    assert "browser has been closed" in failed[GONE, "phone"]


def test_a_failing_check_photographs_its_page_and_a_failing_screenshot_is_only_a_warning():
    browser = FakeBrowser("http://127.0.0.1:1/")
    site = site_tests.Visits(browser.visit, browser.screenshot)

    @site_tests.evidence("dark")
    def check(site, page, ok):
        assert ok, f"{page}: the check failed"

    check(site=site, page="book/intro", ok=True)
    assert browser.shots == [], "a passing check takes no screenshot"
    with pytest.warns(UserWarning, match=r"book/intro \(dark\): no screenshot: OSError"):
        with pytest.raises(AssertionError, match="the check failed"):
            check(site=site, page="book/intro", ok=False)
    assert browser.shots == [("book/intro", "dark")]
    pictured = site_tests.Visits(browser.visit, lambda page, mode: site_tests.screenshot_path(page, mode))
    with pytest.raises(AssertionError) as failed:
        check(site=pictured, page="book/intro", ok=False)
    assert failed.value.__notes__ == [f"screenshot: {site_tests.SCREENSHOTS / 'book_intro.dark.png'}"]


def test_a_browser_that_cannot_start_fails_each_visit_with_the_reason(monkeypatch):
    tries = []

    def no_browser():
        tries.append(1)
        raise BrowserNotFound("No Chromium-family browser was found")

    monkeypatch.setattr(site_tests, "find_browser", no_browser)
    site = site_tests.Visits(site_tests.Chromium("http://127.0.0.1:1/").visit)
    for page in ("book/intro", "book/api"):
        with pytest.raises(
            pytest.fail.Exception, match=rf"{page} \(light\): could not be visited: .*No Chromium"
        ):
            site.seen(page)
    assert len(tries) == 1, "the browser is looked for once, not once per page"


# --- the real checks of tests/test_site.py, with one page that times out --------------------

INNER = """
import pytest
from conftest import serve
from test_site import {checks}
from test_site_harness import FakeBrowser, UpFront, site_tests

@pytest.fixture(scope="session")
def site_url(tmp_path_factory):
    html = tmp_path_factory.mktemp("html")
    for page in site_tests.ALL_PAGES:
        (html / f"{{page}}.html").parent.mkdir(parents=True, exist_ok=True)
        (html / f"{{page}}.html").write_text("<p>page</p>")
    with serve(html) as url:
        yield url

@pytest.fixture(scope="session")
def browser(site_url):
    return FakeBrowser(site_url)

@pytest.fixture(scope="session")
def site(browser):
    return {site}

def test_zz_each_visit_happened_once(browser):
    assert browser.calls.count(({slow!r}, "light")) == 1
    assert len(browser.calls) == len(set(browser.calls))
"""
PER_PAGE = "site_tests.Visits(browser.visit, browser.screenshot)"  # tests/test_site.py's
UP_FRONT = "UpFront(browser)"  # the design of issue #25, for contrast


class UpFront:
    """What tests/test_site.py did before: a session fixture that visits every page first."""

    def __init__(self, browser: FakeBrowser):
        modes = [(p, m) for p in site_tests.ALL_PAGES for m in ("light", "phone")]
        self.pages = {
            key: browser.visit(*key) for key in modes + [(p, "dark") for p in site_tests.DARK_PAGES]
        }

    def seen(self, page, mode="light"):
        return self.pages[page, mode]

    def seen_all(self, keys):
        return {key: self.pages[key] for key in keys}, {}


def run_checks(pytester, site: str):
    """Run tests/test_site.py's checks of pages over FakeBrowser, with ``site`` as the fixture
    that hands out visits; returns (errored node ids, {failed node id: report}, passed, run)."""
    checks = [
        name
        for name, obj in vars(site_tests).items()
        if name.startswith("test_") and "site" in _arguments(obj) and "chromium" not in _arguments(obj)
    ]
    assert "test_page_fits_a_phone_screen" in checks and "test_no_requests_leave_the_machine" in checks
    pytester.makepyfile(test_inner=INNER.format(checks=", ".join(checks), slow=SLOW, site=site))
    run = pytester.inline_run("-p", "no:cacheprovider", "-W", "default")
    reports = run.getreports("pytest_runtest_logreport")
    errors = [r.nodeid for r in reports if r.when != "call" and r.failed]
    calls = [r for r in reports if r.when == "call"]
    failed = {r.nodeid: r.longreprtext for r in calls if r.failed}
    passed = [r.nodeid for r in calls if r.passed]
    return errors, failed, passed, run


def test_one_slow_page_fails_only_its_own_checks(pytester):
    """The checks of tests/test_site.py, run by pytest over a stand-in browser in which one
    page times out and one phone visit finds the browser gone: those pages' checks fail,
    named; every other test passes; none errors."""
    errors, failed, passed, run = run_checks(pytester, PER_PAGE)
    assert not errors, f"tests errored instead of failing: {errors}"
    expected = {n for n in [*failed, *passed] if f"[{SLOW}]" in n and "phone_screen" not in n}
    expected.add(f"test_inner.py::test_page_fits_a_phone_screen[{GONE}]")
    assert len(expected) >= 8, sorted(expected)  # the slow page has many checks
    assert set(failed) == expected, f"unexpected: {set(failed) - expected}; missing: {expected - set(failed)}"
    for nodeid, text in failed.items():
        page = re.search(r"\[(.*)\]", nodeid).group(1)
        assert f"{page} (" in text and "could not be visited" in text, f"{nodeid}: {text}"
    assert len(passed) > 200
    warned = "\n".join(str(c.warning_message.message) for c in run.getcalls("pytest_warning_recorded"))
    assert f"not checked on\n  {SLOW} (light): could not be visited: TimeoutError" in warned, warned


def test_the_check_above_catches_the_design_of_issue_25(pytester):
    """For contrast (a test that cannot fail is a defect): with one fixture that visits every
    page first, the same slow page errors every test, which the check above refuses."""
    errors, failed, passed, _ = run_checks(pytester, UP_FRONT)
    assert len(errors) > 200 and not passed, (len(errors), len(failed), len(passed))


def _arguments(test) -> tuple[str, ...]:
    code = getattr(test, "__wrapped__", test).__code__
    return code.co_varnames[: code.co_argcount]


# --- the real browser, over two tiny pages -------------------------------------------------


def test_a_page_that_hangs_times_out_alone_in_the_real_browser(monkeypatch, tmp_path):
    """A page whose server never answers fails after the navigation timeout, named, with a
    screenshot or a warning, never an error; the browser then visits the next page as usual."""
    release = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.startswith("/hangs"):
                release.wait(30)
            body = (
                b"<!doctype html><html lang='en'><head><meta name='viewport'"
                b" content='width=device-width, initial-scale=1'></head><main><p>A page.</p></main></html>"
            )
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    monkeypatch.setattr(site_tests, "NAVIGATION_MS", 2_000)
    monkeypatch.setattr(site_tests, "FAILED_VISIT_SHOT_MS", 1_000)
    monkeypatch.setattr(site_tests, "SCREENSHOTS", tmp_path)
    with serve_handler(Handler) as url:
        chromium = site_tests.Chromium(url)
        try:
            site = site_tests.Visits(chromium.visit, chromium.screenshot)
            with warnings.catch_warnings(record=True) as warned:
                warnings.simplefilter("always")
                with pytest.raises(
                    pytest.fail.Exception, match=r"hangs \(light\): could not be visited: TimeoutError"
                ):
                    site.seen("hangs")
            # the screenshot of a page that never arrived: a picture, or a warning saying why not
            shot = tmp_path / "hangs.light.failed-visit.png"
            assert shot.is_file() or any("no screenshot hangs" in str(w.message) for w in warned), warned
            seen = site.seen("fine")
            assert seen["status"] == 200 and seen["errors"] == [] and seen["lang"] == "en"
            assert site.seen("fine", "phone")["scrollWidth"] <= site_tests.PHONE["width"]
        finally:
            release.set()
            chromium.close()

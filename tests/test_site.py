"""The built site, tested in a real browser (Chromium driven by Playwright).

Every page in ``_toc.yml``, in English and in Chinese (``zh/``), is opened from a local
HTTP server, at a desktop width (light mode; a few pages also dark) and at a phone's width;
each visit records what the checks below need (JavaScript errors, maths, images, links,
tracebacks, progress-bar noise, the page's width).

No page can take the others down with it. A page is visited the first time one of its tests
asks for it (:class:`Visits`), and the visit's result, or its failure, is kept for the
page's other tests: a page that cannot be visited (too slow, broken, a browser that died)
fails its own tests, each naming the page and the reason, and every other page is checked
as usual. Checks over all pages (every request stays local, every external link is
recorded) check the pages that could be visited and name those that could not.

Screenshots are evidence, never a step that can fail a page: a failing check photographs
its page into ``_build/screenshots/`` (so does a visit that fails, as far as it got), and
``BIGMODEL_SCREENSHOTS=1`` photographs every page visited. A screenshot that cannot be taken
is a warning. The browser is found by ``tests/browser.py`` (``$BIGMODEL_BROWSER``,
Playwright's own Chromium, or ``chromium`` and its kin on ``PATH``); ``make test`` installs
Debian's where it can, or stops at the start with the command to run.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import sys
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urljoin

import pytest
import yaml
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from browser import find_browser
from conftest import ROOT

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "_build" / "screenshots"
SCREENSHOTS_ENV = "BIGMODEL_SCREENSHOTS"  # =1: a screenshot of every page visited
PHONE = {"width": 390, "height": 844}  # a phone held upright (CSS pixels)
# How each page is looked at: the desktop in light and dark mode, and a phone.
MODES = {
    "light": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "light"},
    "dark": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "dark"},
    "phone": {
        "viewport": PHONE,
        "color_scheme": "light",
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 1,
    },
}
# In a full-page screenshot the theme's sticky sidebars (100vh high) would be cut off after
# one screen; for the picture only, they scroll with the page (not on a phone, where they
# are drawers that stay closed).
UNSTICK_CSS = (
    ".bd-sidebar-primary, .bd-sidebar-secondary, .bd-header-article"
    " { position: static !important; max-height: none !important; height: auto !important; }"
)
# Upper bounds, sized for a loaded 2-core machine: a page that takes longer fails its own
# checks (named), and the run goes on. A browser run that hangs must fail, not block CI.
NAVIGATION_MS = 90_000  # loading a page, starting the browser
MATHJAX_MS = 60_000  # MathJax starting, and typesetting the page
ACTION_MS = 60_000  # anything else: fonts, images, a screenshot, search results
# A visit that failed photographs what it got to, briefly: a page still loading may give no
# picture until it loads, and a slow page must not cost much more than its timeout.
FAILED_VISIT_SHOT_MS = 10_000

# Console messages that are expected on an offline machine. Each entry: (regex, why).
# Every request that leaves 127.0.0.1 is aborted by the test (the CI machines have no
# internet, and a page must not depend on it), and chromium logs each abort as a console
# error; the URLs themselves are checked against EXTERNAL_REQUESTS_ALLOWED below.
KNOWN_CONSOLE_ERRORS = [
    (r"Failed to load resource: net::ERR_FAILED", "an aborted request to a non-local address"),
    # sphinx-thebe 0.3.1 (pulled in by jupyter-book, thebe itself is not enabled here) adds
    # its inline `const THEBE_JS_URL = ...` script with app.add_js_file(None, body=...);
    # Sphinx 7.4 emits that inline script twice per page, so the second `const` throws.
    # The first declaration stands and nothing on the page uses thebe.
    (r"Identifier 'THEBE_JS_URL' has already been declared", "sphinx-thebe's doubled inline script"),
]
# Requests to other hosts that a page may make (and that fail offline without harm).
# Empty: the theme, MathJax (sphinx-mathjax-offline) and the fonts are all bundled.
EXTERNAL_REQUESTS_ALLOWED: list[tuple[str, str]] = []

# External links that may appear in page content without being listed on the
# "External links" page (book/links.md). (regex, why). Links in the bibliography count
# as recorded: they come from references.bib.
EXTERNAL_LINKS_ALLOWED: list[tuple[str, str]] = []

LINKS_PAGE = "book/links"
BIBLIOGRAPHY_PAGE = "book/bibliography"

# TeX that MathJax should have typeset: \[ \( $$ \begin{, or $...$ holding a command, ^ or _.
RAW_TEX = re.compile(r".{0,30}(?:\\\[|\\\(|\$\$|\\begin\{|\$[^$\s][^$\n]{0,80}[\\^_][^$\n]{0,80}\$).{0,30}")

# Progress-bar and widget residue that must never reach a stored page.
NOISE = [
    (re.compile(r"\d+%\|"), "a tqdm bar (`42%|`)"),
    (re.compile(r"(it/s|s/it)\]"), "a tqdm rate (`3.1it/s]`)"),
    (re.compile(r"\[\d\d:\d\d<"), "a tqdm time estimate (`[00:01<00:02`)"),
    (re.compile(r"application/vnd\.jupyter\.widget"), "a widget mime type"),
    (re.compile(r"\b(HBox|VBox)\(children=|\b(Float|Int)Progress\("), "a widget's text form"),
    (re.compile(r"Loading widget", re.I), "a widget placeholder"),
]


def toc_pages() -> list[str]:
    """The root and every ``file:`` of ``_toc.yml``, in reading order, without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                pages.append(node["file"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk({k: v for k, v in toc.items() if k != "root"})
    return [re.sub(r"\.(md|ipynb)$", "", p) for p in pages]


PAGES = toc_pages()
# The Chinese edition (make book) mirrors every page under zh/.
ZH = "zh/"
ALL_PAGES = PAGES + [ZH + p for p in PAGES]
ZH_PAGES = [ZH + p for p in PAGES]


def english(page: str) -> str:
    """The English page of a page of either language."""
    return page.removeprefix(ZH)


def other_language(page: str) -> str:
    return english(page) if page.startswith(ZH) else ZH + page


def is_notebook(page: str) -> bool:
    return (ROOT / f"{page}.ipynb").is_file()


# Pages also visited in dark mode: the first chapter and the glossary, or
# every page with BIGMODEL_SITE_DARK=all (each visit costs a few seconds).
DARK_PAGES = (
    PAGES
    if os.environ.get("BIGMODEL_SITE_DARK") == "all"
    else [p for p in PAGES if p == "book/glossary" or p == next((q for q in PAGES if is_notebook(q)), None)]
)


# --- visiting pages: one page's failure stays that page's -----------------------------------


class PagesNotChecked(UserWarning):
    """A check over all pages could not look at some of them (they could not be visited)."""


def describe(err: BaseException, limit: int = 600, one_line: bool = True) -> str:
    """An exception in one line (or its own lines): its type and the start of its message."""
    text = " ".join(str(err).split()) if one_line else str(err).strip()
    if len(text) > limit:
        text = text[:limit] + " [...]"
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


class Visits:
    """What each page looked like in each mode, visited the first time a test asks.

    ``visit(page, mode) -> dict`` does the work (Chromium below; a stand-in in
    ``tests/test_site_harness.py``). Each (page, mode) is visited once: its result, or the
    reason it could not be visited, is kept for the page's other tests, so a page that times
    out costs one timeout, fails its own tests with its name, and leaves the other pages
    alone. ``screenshot(page, mode) -> Path`` photographs a page for a failing check; it may
    fail only with a warning.
    """

    def __init__(
        self,
        visit: Callable[[str, str], dict],
        screenshot: Callable[[str, str], Path | None] | None = None,
    ):
        self._visit = visit
        self._screenshot = screenshot
        self._done: dict[tuple[str, str], tuple[dict | None, str | None]] = {}

    def try_seen(self, page: str, mode: str = "light") -> tuple[dict | None, str | None]:
        """``(what was seen, None)``, or ``(None, why the page could not be visited)``."""
        key = (page, mode)
        if key not in self._done:
            start = time.monotonic()
            try:
                self._done[key] = (self._visit(page, mode), None)
            except Exception as err:  # noqa: BLE001 - whatever went wrong belongs to this page alone
                self._done[key] = (None, f"{describe(err)} (after {time.monotonic() - start:.0f} s)")
        return self._done[key]

    def seen(self, page: str, mode: str = "light") -> dict:
        """What was seen on ``page``; a page that could not be visited fails the calling test."""
        data, err = self.try_seen(page, mode)
        if err is not None:
            pytest.fail(f"{page} ({mode}): could not be visited: {err}", pytrace=False)
        return data

    def seen_all(self, keys: Iterable[tuple[str, str]]) -> tuple[dict, dict]:
        """For checks over many pages: ``({(page, mode): seen}, {(page, mode): why not})``."""
        seen, failed = {}, {}
        for key in keys:
            data, err = self.try_seen(*key)
            if err is None:
                seen[key] = data
            else:
                failed[key] = err
        return seen, failed

    def screenshot(self, page: str, mode: str) -> Path | None:
        """A screenshot of ``page`` as evidence, or None; never raises (a warning instead)."""
        if self._screenshot is None:
            return None
        try:
            return self._screenshot(page, mode)
        except Exception as err:  # noqa: BLE001 - evidence is optional, a check's verdict is not
            warnings.warn(f"{page} ({mode}): no screenshot: {describe(err)}", stacklevel=2)
            return None


def not_checked(failed: dict) -> str:
    """The pages a check over all pages could not look at, one a line, with the reason."""
    return "\n".join(
        f"  {page} ({mode}): could not be visited: {err}" for (page, mode), err in failed.items()
    )


def report_not_checked(failed: dict, what: str) -> None:
    """A check over all pages names, as a warning, the pages it could not look at (their own
    tests fail, naming them; this check still holds for every other page)."""
    if failed:
        warnings.warn(PagesNotChecked(f"{what}: not checked on\n{not_checked(failed)}"), stacklevel=2)


def evidence(mode: str = "light"):
    """For a test taking ``site`` and ``page``: when a check fails, the page (in ``mode``) is
    photographed into ``_build/screenshots/`` and the failure says where. A page that could not
    be visited was photographed by its visit."""

    def wrap(test):
        @functools.wraps(test)
        def run(*args, **kwargs):
            try:
                return test(*args, **kwargs)
            except AssertionError as err:
                shot = kwargs["site"].screenshot(kwargs["page"], mode)
                if shot is not None:
                    err.add_note(f"screenshot: {shot}")
                raise

        return run

    return wrap


def screenshot_path(page: str, mode: str, what: str = "") -> Path:
    return SCREENSHOTS / f"{page.replace('/', '_')}.{mode}{what}.png"


# --- the local server and the browser ------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A browser that closed its tab mid-download (a visit that timed out) is no error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture(scope="session")
def site_url(built_html):
    """The built site on ``http://127.0.0.1:<random port>/`` (search needs http, not file)."""
    handler = functools.partial(_QuietHandler, directory=str(built_html))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


def take_screenshot(
    page, path: Path, mode: str, full_page: bool = True, timeout_ms: float | None = None
) -> Path | None:
    """Photograph ``page`` into ``path``; a failure is a warning and None, never an error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        style = UNSTICK_CSS if mode != "phone" and full_page else None
        timeout = ACTION_MS if timeout_ms is None else timeout_ms
        page.screenshot(path=str(path), full_page=full_page, style=style, timeout=timeout)
        return path
    except Exception as err:  # noqa: BLE001 - evidence is optional, a check's verdict is not
        warnings.warn(f"no screenshot {path.name}: {describe(err)}", stacklevel=2)
        return None


# Waits that end: each resolves true when done, false after `ms` milliseconds. Lazy images
# load only when scrolled to: all are made eager, and each has loaded or failed.
SETTLE_JS = """
([what, ms]) => {
  const work = {
    mathjax: () => MathJax.startup.promise,
    fonts: () => document.fonts.ready,
    images: () => Promise.all([...document.images].map((img) => {
      img.loading = "eager";
      return img.complete ? null : new Promise((done) => { img.onload = img.onerror = done; });
    })),
  }[what]();
  const late = new Promise((done) => setTimeout(() => done(false), ms));
  return Promise.race([work.then(() => true), late]);
}
"""


# Playwright's sync API runs one driver per thread: every Chromium below shares it, and the
# one that started it stops it.
_playwright = None


class Chromium:
    """The browser of the site tests: started on first use, started again if it went away,
    with one context per mode (:data:`MODES`). Nothing here runs when the fixture is made,
    so nothing here can error every test at once: a browser that cannot start fails each
    visit with the reason (found once, then repeated without trying again)."""

    def __init__(self, site_url: str):
        self.site_url = site_url
        self._started_playwright = False
        self._browser = None
        self._contexts: dict = {}
        self._cannot_start: str | None = None

    def _context(self, mode: str):
        if self._cannot_start:
            raise RuntimeError(self._cannot_start)
        if self._browser is None or not self._browser.is_connected():
            self._contexts.clear()
            try:
                executable = find_browser()
                global _playwright
                if _playwright is None:
                    from playwright.sync_api import sync_playwright

                    _playwright = sync_playwright().start()
                    self._started_playwright = True
                self._browser = _playwright.chromium.launch(
                    executable_path=str(executable), args=CHROMIUM_ARGS, timeout=NAVIGATION_MS
                )
            except Exception as err:
                self._cannot_start = f"the browser did not start: {describe(err, limit=2000, one_line=False)}"
                raise RuntimeError(self._cannot_start) from err
        if mode not in self._contexts:
            ctx = self._browser.new_context(**MODES[mode], service_workers="block")
            ctx.set_default_timeout(ACTION_MS)
            ctx.set_default_navigation_timeout(NAVIGATION_MS)
            # pydata-sphinx-theme reads the mode from localStorage before it paints.
            scheme = MODES[mode]["color_scheme"]
            ctx.add_init_script(
                f'localStorage.setItem("mode", "{scheme}"); localStorage.setItem("theme", "{scheme}");'
            )
            self._contexts[mode] = ctx
        return self._contexts[mode]

    @contextlib.contextmanager
    def page(self, mode: str = "light"):
        """A new tab: ``(page, errors, external)``. ``errors`` collects JavaScript errors and
        console errors; every request that leaves 127.0.0.1 is aborted and its URL added to
        ``external`` (the CI machines have no internet, and a page must not depend on it)."""
        page = self._context(mode).new_page()
        errors: list[str] = []
        external: list[str] = []
        page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
        page.on(
            "console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None
        )

        def route(r):
            if r.request.url.startswith(self.site_url) or r.request.url.startswith("data:"):
                r.continue_()
            else:
                external.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        try:
            yield page, errors, external
        finally:
            with contextlib.suppress(Exception):
                page.close()

    def visit(self, name: str, mode: str, shot: Path | None = None) -> dict:
        """Open page ``name`` in ``mode``, wait until it is typeset, and collect what the checks
        need (:data:`COLLECT_JS`; on a phone, :data:`WIDTH_JS`). Screenshot into ``shot``, or with
        ``BIGMODEL_SCREENSHOTS=1``; a visit that fails photographs what it got to."""
        if shot is None and os.environ.get(SCREENSHOTS_ENV) == "1":
            shot = screenshot_path(name, mode)
        with self.page(mode) as (page, errors, external):
            try:
                resp = page.goto(urljoin(self.site_url, f"{name}.html"), wait_until="load")
                data = {"status": resp.status if resp else None, "mathjax": None}
                # Sphinx loads MathJax only on pages with maths. MathJax 3 resolves
                # startup.promise once the page is typeset; a MathJax that never starts is
                # reported by the maths test.
                if page.locator('script[src*="mathjax" i]').count():
                    try:
                        page.wait_for_function(
                            "() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                            timeout=MATHJAX_MS,
                        )
                        typeset = page.evaluate(SETTLE_JS, ["mathjax", MATHJAX_MS])
                        data["mathjax"] = (
                            "ok" if typeset else f"MathJax did not finish within {MATHJAX_MS} ms"
                        )
                    except PlaywrightTimeoutError:
                        data["mathjax"] = f"MathJax did not start within {MATHJAX_MS} ms"
                # a font or an image that never arrives shows in the checks, not as a hang
                page.evaluate(SETTLE_JS, ["fonts", ACTION_MS])
                page.evaluate(SETTLE_JS, ["images", ACTION_MS])
                data.update(page.evaluate(WIDTH_JS if mode == "phone" else COLLECT_JS))
            except Exception:
                failed = screenshot_path(name, mode, ".failed-visit")
                take_screenshot(page, failed, mode, full_page=False, timeout_ms=FAILED_VISIT_SHOT_MS)
                raise
            if shot is not None:
                take_screenshot(page, shot, mode)
        data.update(errors=errors, external=external)
        return data

    def screenshot(self, name: str, mode: str) -> Path | None:
        """The page visited again, and photographed whole (for a failing check)."""
        path = screenshot_path(name, mode)
        self.visit(name, mode, shot=path)
        return path if path.is_file() else None

    def close(self) -> None:
        for closeable in (*self._contexts.values(), self._browser):
            with contextlib.suppress(Exception):
                if closeable is not None:
                    closeable.close()
        global _playwright
        if self._started_playwright and _playwright is not None:
            with contextlib.suppress(Exception):
                _playwright.stop()
            _playwright = None


@pytest.fixture(scope="session")
def chromium(site_url):
    """The browser, started when a test first needs it (making this fixture cannot fail)."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    browser = Chromium(site_url)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def site(chromium) -> Visits:
    """Every page, visited once per mode when a test first asks (:class:`Visits`)."""
    return Visits(chromium.visit, chromium.screenshot)


# What one visit collects (runs in the page once MathJax has finished).
COLLECT_JS = r"""
() => {
  const article = document.querySelector("article.bd-article") || document.querySelector("main");
  const skip = (el) => el.closest("pre, code, script, style, mjx-container, .cell_input, .headerlink");
  // visible text outside code, for raw TeX and progress-bar noise
  const texts = [];
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || skip(el) || !el.getClientRects().length) continue;
    texts.push(n.textContent);
  }
  const outputs = [...article.querySelectorAll(".cell_output")].map((e) => e.innerText);
  const math = [...article.querySelectorAll(".math")];
  const cellOf = (el) => el.closest(".cell");
  const expected = (el) => {
    const c = cellOf(el);
    return !!c && c.classList.contains("tag_raises-exception");
  };
  // error outputs (MyST-NB gives them the classes "output traceback"), and any output whose
  // text holds a Python traceback (printed, or in stderr)
  const errorOutputs = [...article.querySelectorAll(".output.traceback, .output.stderr")]
    .filter((el) => !expected(el));
  const tracebacks = [...article.querySelectorAll(".cell_output")]
    .filter((el) => !expected(el) && (
      errorOutputs.some((e) => el.contains(e))
      || /Traceback \(most recent call last\)/.test(el.innerText)))
    .map((el) => el.innerText.slice(0, 300))
    .concat(errorOutputs.filter((e) => !e.closest(".cell_output")).map((e) => e.innerText.slice(0, 300)));
  return {
    theme: document.documentElement.dataset.theme,
    text: texts.join(" "),
    outputs: outputs,
    nMath: math.length,
    mathUntypeset: math.filter((m) => !m.querySelector("mjx-container"))
      .map((m) => m.textContent.slice(0, 80)),
    nMjx: article.querySelectorAll("mjx-container").length,
    mjxErrors: [...article.querySelectorAll("mjx-merror, [data-mjx-error]")]
      .map((e) => e.getAttribute("data-mjx-error") || e.textContent),
    images: [...document.querySelectorAll("img")]
      .map((i) => ({src: i.currentSrc || i.src, ok: i.complete && i.naturalWidth > 0})),
    links: [...article.querySelectorAll("a[href]")].map((a) => a.getAttribute("href"))
      .filter((h) => /^https?:/i.test(h)),
    hrefs: [...document.querySelectorAll("a[href]")].map((a) => a.getAttribute("href")),
    tracebacks: tracebacks,
    switch: [...document.querySelectorAll("a.language-switch-link")].map((a) => a.href),
    lang: document.documentElement.lang,
    // prose for the "no English left" measure: leaf blocks outside cells, docstrings (which
    // stay English) and the bibliography, without code, maths, citations and bare addresses
    prose: [...article.querySelectorAll("p, li, dt, dd, h1, h2, h3, h4, th, td, figcaption")]
      .filter((e) => !e.closest(".cell, dl.py, .docstring, .bibliography, .citation, .language-switch, nav")
        && !e.querySelector("p, li"))
      .map((e) => {
        const c = e.cloneNode(true);
        c.querySelectorAll("code, pre, mjx-container, .math, script, .headerlink,"
          + " a[href*='bibliography.html']").forEach((x) => x.remove());
        c.querySelectorAll("a[href^='http']").forEach((a) => {  // a bare address
          if (/^https?:/.test(a.textContent.trim())) a.remove();
        });
        return c.textContent.replace(/\s+/g, " ").trim();
      })
      .filter((t) => t.length),
    widgets: document.querySelectorAll(".jupyter-widgets, script[type^='application/vnd.jupyter.widget']")
      .length,
  };
}
"""

# On a phone: how wide the document is, and when it is wider than the screen, the elements
# that stick out of it: the outermost ones (their parent fits), outside any container that
# scrolls or clips on its own, furthest first. A phone's browser zooms out to show a page
# that is too wide, which makes window.innerWidth as wide as the page; the layout viewport
# (the html element's clientWidth) stays the screen's width, given the book's
# <meta name="viewport" content="width=device-width">, and so does screen.width.
WIDTH_JS = r"""
() => {
  const doc = document.documentElement;
  const screen = Math.min(window.innerWidth, doc.clientWidth, window.screen.width);
  const result = {scrollWidth: doc.scrollWidth, screen: screen, offenders: []};
  if (doc.scrollWidth <= screen + 1) return result;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].slice(0, 3).map((c) => "." + c).join("");
  const sticksOut = (el) => el.getBoundingClientRect().right > screen + 1;
  // inside a box that scrolls or clips, or fixed to the screen (the theme's closed drawers,
  // the skip link): such an element does not widen the page
  const contained = (el) => {
    if (getComputedStyle(el).position === "fixed") return true;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const style = getComputedStyle(a);
      if (style.overflowX !== "visible" || style.position === "fixed") return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    const parent = el.parentElement;
    if (!r.width || !sticksOut(el) || (parent && sticksOut(parent)) || contained(el)) continue;
    result.offenders.push({
      el: name(el), parent: name(el.parentElement), width: Math.round(r.width),
      right: Math.round(r.right), text: (el.innerText || el.textContent || "").trim().slice(0, 60),
    });
  }
  result.offenders.sort((a, b) => b.right - a.right);
  result.offenders = result.offenders.slice(0, 8);
  return result;
}
"""


# --- the checks, one test per page ---------------------------------------------------------


@pytest.mark.parametrize("page", ALL_PAGES)
@evidence()
def test_page_loads_without_javascript_errors(site, page):
    seen = site.seen(page)
    assert seen["status"] == 200, f"{page}: HTTP status {seen['status']}"
    unexpected = [e for e in seen["errors"] if not any(re.search(rx, e) for rx, _why in KNOWN_CONSOLE_ERRORS)]
    assert not unexpected, f"{page}: JavaScript errors:\n" + "\n".join(unexpected)


def test_no_requests_leave_the_machine(site):
    """Every page visited (light, and dark where visited dark) requests only local files."""
    seen, failed = site.seen_all([(p, "light") for p in ALL_PAGES] + [(p, "dark") for p in DARK_PAGES])
    assert seen, f"no page could be visited:\n{not_checked(failed)}"
    bad = {}
    for (page, _mode), data in seen.items():
        for u in data["external"]:
            if not any(re.search(rx, u) for rx, _why in EXTERNAL_REQUESTS_ALLOWED):
                bad.setdefault(u, set()).add(page)
    report_not_checked(failed, "no requests leave the machine")
    assert not bad, (
        "pages request non-local resources (they fail offline):\n"
        + "\n".join(f"{u}  (on {', '.join(sorted(ps))})" for u, ps in sorted(bad.items()))
        + (f"\nnot checked:\n{not_checked(failed)}" if failed else "")
    )


@pytest.mark.parametrize("page", ALL_PAGES)
@evidence()
def test_equations_are_typeset_by_mathjax(site, page):
    seen = site.seen(page)
    assert seen["mathjax"] in (None, "ok"), f"{page}: {seen['mathjax']}"
    assert not seen["mathUntypeset"], f"{page}: maths left untypeset: {seen['mathUntypeset']}"
    assert not seen["mjxErrors"], f"{page}: MathJax errors: {seen['mjxErrors']}"
    if seen["nMath"]:
        assert seen["nMjx"] >= seen["nMath"], f"{page}: {seen['nMath']} maths, {seen['nMjx']} typeset"
    raw = [m.group(0) for m in RAW_TEX.finditer(seen["text"])]
    assert not raw, f"{page}: raw TeX in the visible text: {raw}"


@pytest.mark.parametrize("page", ALL_PAGES)
@evidence()
def test_images_load(site, page):
    broken = [i["src"] for i in site.seen(page)["images"] if not i["ok"]]
    assert not broken, f"{page}: images that did not load: {broken}"


def notebook_path(page: str) -> str:
    """The notebook a page's Colab button opens, relative to the repository, without
    ``.ipynb``: the English one, or the Chinese twin (``tools/zh_notebooks.py``)."""
    nb = english(page)
    return f"locales/zh_CN/notebooks/{nb}" if page.startswith(ZH) else nb


def repository_ref() -> str:
    """The branch or tag the Colab and launch buttons open (``repository.branch`` of
    ``_config.yml``; the site under test was built from this file)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    ref = (config.get("repository") or {}).get("branch")
    assert ref, "_config.yml has no repository.branch: the Colab buttons would open jupyter-book's default"
    return str(ref)


@pytest.mark.parametrize("page", [p for p in ALL_PAGES if is_notebook(english(p))])
@evidence()
def test_notebook_has_colab_and_download_links(site, page):
    """A page's buttons open its own language's notebook: the English one, or the Chinese
    twin in locales/zh_CN/notebooks (tools/zh_notebooks.py; the intro page says so)."""
    hrefs, nb, ref = site.seen(page)["hrefs"], english(page), repository_ref()
    path = notebook_path(page)
    colab = [h for h in hrefs if h.startswith("https://colab.research.google.com/github/")]
    assert any(h.endswith(f"/blob/{ref}/{path}.ipynb") for h in colab), (
        f"{page}: Colab link {colab}, want {ref}/{path}.ipynb"
    )
    assert (ROOT / f"{path}.ipynb").is_file(), f"{page}: the Colab button's notebook {path} is missing"
    assert any(h.endswith(f"_sources/{nb}.ipynb") for h in hrefs), f"{page}: no .ipynb download link"


@pytest.mark.parametrize("page", ALL_PAGES)
@evidence()
def test_no_unexpected_tracebacks(site, page):
    tb = site.seen(page)["tracebacks"]
    where = "outside cells tagged raises-exception"
    assert not tb, f"{page}: traceback or stderr output {where}:\n" + "\n---\n".join(tb)


@pytest.mark.parametrize("page", ALL_PAGES)
@evidence()
def test_no_progress_bar_or_widget_noise(site, page):
    seen = site.seen(page)
    assert not seen["widgets"], f"{page}: {seen['widgets']} widget(s), which render as empty boxes offline"
    text = seen["text"] + "\n" + "\n".join(seen["outputs"])
    found = [f"{why}: {m.group(0)!r}" for rx, why in NOISE for m in rx.finditer(text)]
    assert not found, f"{page}: progress-bar or widget residue: {found[:5]}"


@pytest.mark.parametrize("page", DARK_PAGES)
@evidence("dark")
def test_dark_mode(site, page):
    seen = site.seen(page, "dark")
    assert seen["theme"] == "dark", f"{page}: theme {seen['theme']!r} in dark mode"
    unexpected = [e for e in seen["errors"] if not any(re.search(rx, e) for rx, _ in KNOWN_CONSOLE_ERRORS)]
    assert not unexpected, f"{page} (dark): JavaScript errors:\n" + "\n".join(unexpected)
    assert not seen["mathUntypeset"], f"{page} (dark): maths left untypeset: {seen['mathUntypeset']}"


@pytest.mark.parametrize("page", ALL_PAGES)
@evidence("phone")
def test_page_fits_a_phone_screen(site, page):
    """Nothing scrolls the page sideways at a phone's width: wide tables, code, equations and
    signatures scroll or wrap inside their own boxes (_static/bigmodel.css)."""
    seen = site.seen(page, "phone")
    wide = [
        f"  {o['el']}: {o['width']} px wide, right edge at {o['right']} px, in {o['parent']}: {o['text']!r}"
        for o in seen["offenders"]
    ]
    assert seen["scrollWidth"] <= seen["screen"] + 1, (
        f"{page}: scrolls sideways on a {PHONE['width']}x{PHONE['height']} phone: the document is"
        f" {seen['scrollWidth']} px wide, the screen {seen['screen']} px; sticking out:\n" + "\n".join(wide)
    )


def test_every_external_link_is_recorded(site):
    recorded = set(site.seen(LINKS_PAGE)["links"])
    if BIBLIOGRAPHY_PAGE in PAGES:
        recorded |= set(site.seen(BIBLIOGRAPHY_PAGE)["links"])
    norm = {u.rstrip("/") for u in recorded}
    seen, failed = site.seen_all((p, "light") for p in ALL_PAGES)
    missing = {}
    for (page, _mode), data in seen.items():
        for u in data["links"]:
            if u.rstrip("/") in norm or any(re.search(rx, u) for rx, _why in EXTERNAL_LINKS_ALLOWED):
                continue
            missing.setdefault(u, []).append(page)
    report_not_checked(failed, "every external link is recorded")
    assert not missing, (
        "external links not listed on book/links.md:\n"
        + "\n".join(f"{u}  (on {', '.join(ps)})" for u, ps in sorted(missing.items()))
        + (f"\nnot checked:\n{not_checked(failed)}" if failed else "")
    )


@contextlib.contextmanager
def search(chromium, site_url: str, query: str, name: str):
    """The search page's result links for ``query`` (a path and query string), and the
    JavaScript errors on the way; a failing check inside the block photographs the page."""
    with chromium.page("light") as (page, errors, _external):
        page.goto(urljoin(site_url, query))
        page.wait_for_function(
            "() => { const s = document.querySelector('#search-results .search-summary');"
            " return s && s.innerText.trim().length > 0; }",
            timeout=ACTION_MS,
        )
        results = page.eval_on_selector_all(
            "#search-results ul.search li a", "els => els.map(e => e.getAttribute('href'))"
        )
        try:
            yield results, errors
        except AssertionError as err:
            shot = take_screenshot(page, SCREENSHOTS / f"{name}.png", "light")
            if shot is not None:
                err.add_note(f"screenshot: {shot}")
            raise
        if os.environ.get(SCREENSHOTS_ENV) == "1":
            take_screenshot(page, SCREENSHOTS / f"{name}.png", "light")


def test_search_finds_backpropagation(chromium, site_url):
    """Sphinx's client-side search works over http (the glossary, and the FCNN chapter, use the word)."""
    with search(chromium, site_url, "search.html?q=backpropagation", "search") as (results, errors):
        assert results, "search.html?q=backpropagation found nothing"
        pages = {re.sub(r"\.html.*", "", r) for r in results}
        assert pages <= set(PAGES), f"search results outside the book: {pages - set(PAGES)}"
        unexpected = [e for e in errors if not any(re.search(rx, e) for rx, _ in KNOWN_CONSOLE_ERRORS)]
        assert not unexpected, unexpected


# --- the two languages ---------------------------------------------------------------------


@pytest.mark.parametrize("page", ALL_PAGES)
@evidence()
def test_language_switch_opens_the_same_page(site, site_url, page):
    """One link per page, to the same page in the other language (which the server has)."""
    seen = site.seen(page)
    assert seen["lang"] == ("zh-CN" if page.startswith(ZH) else "en"), f"{page}: lang {seen['lang']}"
    target = urljoin(site_url, f"{other_language(page)}.html")
    assert seen["switch"] == [target], f"{page}: language links {seen['switch']}, want {target}"
    with urllib.request.urlopen(urllib.request.Request(target, method="HEAD"), timeout=ACTION_MS / 1000) as r:
        assert r.status == 200, f"{page}: {target} answers {r.status}"


# A Chinese page's prose block "is still English" when it has at least MIN_WORDS Latin words
# that start in lower case and fewer Chinese characters than such words (tools/po_check.py's
# chinese_share < 0.5). Names (PyTorch, GPT-3, Hinton) stay Latin in Chinese prose and start
# in upper case; code, maths, citations and bare addresses are not counted.
MIN_WORDS = 3


@pytest.mark.parametrize("page", ZH_PAGES)
@evidence()
def test_no_english_prose_left_on_chinese_pages(site, page):
    from po_check import chinese_share

    english_left = []
    for text in site.seen(page)["prose"]:
        share, words = chinese_share(text)
        if words >= MIN_WORDS and share < 0.5:
            english_left.append(f"{share:.2f} {text[:100]!r}")
        if "**" in text or "{glue" in text:  # bold that did not close, a role left raw
            english_left.append(f"markup left in the text: {text[:100]!r}")
    assert not english_left, f"{page}: English prose blocks:\n" + "\n".join(english_left)


@pytest.mark.parametrize(
    "word, expected",
    [("反向传播", {"book/03_fcnn_equations", "book/glossary"}), ("注意力", {"book/04b_transformer"})],
)
def test_chinese_search_finds_the_pages(chromium, site_url, word, expected):
    """Sphinx's Chinese search index (split by jieba) finds a term on the pages that use it."""
    with search(chromium, site_url, f"{ZH}search.html?q={word}", f"search-zh-{len(word)}") as (results, _):
        found = {re.sub(r"\.html.*", "", r) for r in results}
        assert expected <= found, f"zh search for {word}: found {sorted(found)}, want {sorted(expected)}"

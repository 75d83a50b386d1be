"""The built site, tested in a real browser (Chromium driven by Playwright).

Every page in ``_toc.yml``, in English and in Chinese (``zh/``), is opened once from a local
HTTP server; one visit records what
the checks below need (JavaScript errors, maths, images, links, tracebacks, progress-bar
noise) and saves full-page screenshots to ``_build/screenshots/``. The browser is found by
``tests/browser.py`` (``$BIGMODEL_BROWSER``, Playwright's own Chromium, or ``chromium`` and
its kin on ``PATH``); ``make test`` installs Debian's where it can, or stops at the start
with the command to run.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urljoin

import pytest
import yaml
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from browser import BrowserNotFound, find_browser
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
VIEWPORT = {"width": 1280, "height": 900}
# In a full-page screenshot the theme's sticky sidebars (100vh high) would be cut off after
# one screen; for the picture only, they scroll with the page.
UNSTICK_CSS = (
    ".bd-sidebar-primary, .bd-sidebar-secondary, .bd-header-article"
    " { position: static !important; max-height: none !important; height: auto !important; }"
)
# A browser run that hangs (MathJax never finishing, say) must fail, not block CI.
TIMEOUT_MS = 20_000
MATHJAX_MS = 8_000

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


# Pages also visited (and photographed) in dark mode: the first chapter and the glossary, or
# every page with BIGMODEL_SITE_DARK=all (each visit with a screenshot costs 1-7 s).
DARK_PAGES = (
    PAGES
    if os.environ.get("BIGMODEL_SITE_DARK") == "all"
    else [p for p in PAGES if p == "book/glossary" or p == next((q for q in PAGES if is_notebook(q)), None)]
)


# --- the local server and the browser ------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="session")
def site_url(built_html):
    """The built site on ``http://127.0.0.1:<random port>/`` (search needs http, not file)."""
    handler = functools.partial(_QuietHandler, directory=str(built_html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="session")
def browser():
    try:
        executable = find_browser()
    except BrowserNotFound as err:
        pytest.fail(str(err))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _new_context(browser, site_url: str, dark: bool):
    ctx = browser.new_context(
        viewport=VIEWPORT, color_scheme="dark" if dark else "light", service_workers="block"
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    mode = "dark" if dark else "light"
    # pydata-sphinx-theme reads the mode from localStorage before it paints.
    ctx.add_init_script(f'localStorage.setItem("mode", "{mode}"); localStorage.setItem("theme", "{mode}");')
    external: list[str] = []

    def route(r):
        if r.request.url.startswith(site_url) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    return ctx, external


# Lazy images load only when scrolled to: load them all, and wait until each has loaded or failed.
WAIT_FOR_IMAGES_JS = """
() => Promise.all([...document.images].map((img) => {
  img.loading = "eager";
  return img.complete ? null : new Promise((done) => { img.onload = img.onerror = done; });
}))
"""

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


def _visit(ctx, url: str, shot: Path | None) -> dict:
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    resp = page.goto(url, wait_until="load")
    status = resp.status if resp else None
    # Sphinx loads MathJax only on pages with maths. MathJax 3 resolves startup.promise
    # once the page is typeset; a MathJax that never starts is reported by the maths test.
    mathjax = None
    if page.locator('script[src*="mathjax" i]').count():
        try:
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=MATHJAX_MS
            )
            page.evaluate("() => MathJax.startup.promise.then(() => true)")
            mathjax = "ok"
        except PlaywrightTimeoutError:
            mathjax = f"MathJax did not start within {MATHJAX_MS} ms"
    page.evaluate("() => document.fonts.ready.then(() => true)")
    page.evaluate(WAIT_FOR_IMAGES_JS)
    data = page.evaluate(COLLECT_JS)
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True, style=UNSTICK_CSS)
    page.close()
    data.update(status=status, errors=errors, mathjax=mathjax)
    return data


@pytest.fixture(scope="session")
def site(browser, site_url):
    """Visit every page once (light mode; some also dark); return what was seen, per page."""
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    light, external = _new_context(browser, site_url, dark=False)
    seen = {}
    for p in ALL_PAGES:
        seen[p] = _visit(light, urljoin(site_url, f"{p}.html"), SCREENSHOTS / f"{p.replace('/', '_')}.png")
    light.close()
    dark, external_dark = _new_context(browser, site_url, dark=True)
    for p in DARK_PAGES:
        shot = SCREENSHOTS / f"{p.replace('/', '_')}.dark.png"
        seen[p, "dark"] = _visit(dark, urljoin(site_url, f"{p}.html"), shot)
    dark.close()
    return {"pages": seen, "external_requests": external + external_dark}


# --- the checks, one test per page ---------------------------------------------------------


@pytest.mark.parametrize("page", ALL_PAGES)
def test_page_loads_without_javascript_errors(site, page):
    seen = site["pages"][page]
    assert seen["status"] == 200
    unexpected = [e for e in seen["errors"] if not any(re.search(rx, e) for rx, _why in KNOWN_CONSOLE_ERRORS)]
    assert not unexpected, f"{page}: JavaScript errors:\n" + "\n".join(unexpected)


def test_no_requests_leave_the_machine(site):
    bad = [
        u
        for u in site["external_requests"]
        if not any(re.search(rx, u) for rx, _why in EXTERNAL_REQUESTS_ALLOWED)
    ]
    assert not bad, "pages request non-local resources (they fail offline):\n" + "\n".join(sorted(set(bad)))


@pytest.mark.parametrize("page", ALL_PAGES)
def test_equations_are_typeset_by_mathjax(site, page):
    seen = site["pages"][page]
    assert seen["mathjax"] in (None, "ok"), f"{page}: {seen['mathjax']}"
    assert not seen["mathUntypeset"], f"{page}: maths left untypeset: {seen['mathUntypeset']}"
    assert not seen["mjxErrors"], f"{page}: MathJax errors: {seen['mjxErrors']}"
    if seen["nMath"]:
        assert seen["nMjx"] >= seen["nMath"], f"{page}: {seen['nMath']} maths, {seen['nMjx']} typeset"
    raw = [m.group(0) for m in RAW_TEX.finditer(seen["text"])]
    assert not raw, f"{page}: raw TeX in the visible text: {raw}"


@pytest.mark.parametrize("page", ALL_PAGES)
def test_images_load(site, page):
    broken = [i["src"] for i in site["pages"][page]["images"] if not i["ok"]]
    assert not broken, f"{page}: images that did not load: {broken}"


@pytest.mark.parametrize("page", [p for p in ALL_PAGES if is_notebook(english(p))])
def test_notebook_has_colab_and_download_links(site, page, site_url):
    """A Chinese page's buttons open the English notebook (the intro page says so)."""
    hrefs, nb = site["pages"][page]["hrefs"], english(page)
    colab = [h for h in hrefs if h.startswith("https://colab.research.google.com/github/")]
    assert any(h.endswith(f"/blob/main/{nb}.ipynb") for h in colab), f"{page}: Colab link {colab}"
    assert any(h.endswith(f"_sources/{nb}.ipynb") for h in hrefs), f"{page}: no .ipynb download link"


@pytest.mark.parametrize("page", ALL_PAGES)
def test_no_unexpected_tracebacks(site, page):
    tb = site["pages"][page]["tracebacks"]
    where = "outside cells tagged raises-exception"
    assert not tb, f"{page}: traceback or stderr output {where}:\n" + "\n---\n".join(tb)


@pytest.mark.parametrize("page", ALL_PAGES)
def test_no_progress_bar_or_widget_noise(site, page):
    seen = site["pages"][page]
    assert not seen["widgets"], f"{page}: {seen['widgets']} widget(s), which render as empty boxes offline"
    text = seen["text"] + "\n" + "\n".join(seen["outputs"])
    found = [f"{why}: {m.group(0)!r}" for rx, why in NOISE for m in rx.finditer(text)]
    assert not found, f"{page}: progress-bar or widget residue: {found[:5]}"


@pytest.mark.parametrize("page", DARK_PAGES)
def test_dark_mode(site, page):
    seen = site["pages"][page, "dark"]
    assert seen["theme"] == "dark"
    assert not seen["errors"] or all(
        any(re.search(rx, e) for rx, _ in KNOWN_CONSOLE_ERRORS) for e in seen["errors"]
    )
    assert not seen["mathUntypeset"]


def test_every_external_link_is_recorded(site):
    pages = site["pages"]
    recorded = set(pages[LINKS_PAGE]["links"]) | set(pages.get(BIBLIOGRAPHY_PAGE, {}).get("links", []))
    norm = {u.rstrip("/") for u in recorded}
    missing = {}
    for p in ALL_PAGES:
        for u in pages[p]["links"]:
            if u.rstrip("/") in norm or any(re.search(rx, u) for rx, _why in EXTERNAL_LINKS_ALLOWED):
                continue
            missing.setdefault(u, []).append(p)
    assert not missing, "external links not listed on book/links.md:\n" + "\n".join(
        f"{u}  (on {', '.join(ps)})" for u, ps in sorted(missing.items())
    )


def test_search_finds_backpropagation(browser, site_url):
    """Sphinx's client-side search works over http (the glossary, and the FCNN chapter, use the word)."""
    ctx, _ = _new_context(browser, site_url, dark=False)
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.goto(urljoin(site_url, "search.html?q=backpropagation"))
    page.wait_for_function(
        "() => { const s = document.querySelector('#search-results .search-summary');"
        " return s && s.innerText.trim().length > 0; }"
    )
    results = page.eval_on_selector_all(
        "#search-results ul.search li a", "els => els.map(e => e.getAttribute('href'))"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "search.png"), full_page=True)
    ctx.close()
    assert results, "search.html?q=backpropagation found nothing"
    pages = {re.sub(r"\.html.*", "", r) for r in results}
    assert pages <= set(PAGES), f"search results outside the book: {pages - set(PAGES)}"
    unexpected = [e for e in errors if not any(re.search(rx, e) for rx, _ in KNOWN_CONSOLE_ERRORS)]
    assert not unexpected, unexpected


# --- the two languages ---------------------------------------------------------------------


@pytest.mark.parametrize("page", ALL_PAGES)
def test_language_switch_opens_the_same_page(site, site_url, page):
    """One link per page, to the same page in the other language (visited, so it exists)."""
    seen = site["pages"][page]
    assert seen["lang"] == ("zh-CN" if page.startswith(ZH) else "en"), seen["lang"]
    target = urljoin(site_url, f"{other_language(page)}.html")
    assert seen["switch"] == [target], f"{page}: language links {seen['switch']}, want {target}"
    assert site["pages"][other_language(page)]["status"] == 200


# A Chinese page's prose block "is still English" when it has at least MIN_WORDS Latin words
# that start in lower case and fewer Chinese characters than such words (tools/po_check.py's
# chinese_share < 0.5). Names (PyTorch, GPT-3, Hinton) stay Latin in Chinese prose and start
# in upper case; code, maths, citations and bare addresses are not counted.
MIN_WORDS = 3


@pytest.mark.parametrize("page", ZH_PAGES)
def test_no_english_prose_left_on_chinese_pages(site, page):
    from po_check import chinese_share

    english_left = []
    for text in site["pages"][page]["prose"]:
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
def test_chinese_search_finds_the_pages(browser, site_url, word, expected):
    """Sphinx's Chinese search index (split by jieba) finds a term on the pages that use it."""
    ctx, _ = _new_context(browser, site_url, dark=False)
    page = ctx.new_page()
    page.goto(urljoin(site_url, f"{ZH}search.html?q={word}"))
    page.wait_for_function(
        "() => { const s = document.querySelector('#search-results .search-summary');"
        " return s && s.innerText.trim().length > 0; }"
    )
    results = page.eval_on_selector_all(
        "#search-results ul.search li a", "els => els.map(e => e.getAttribute('href'))"
    )
    page.screenshot(path=str(SCREENSHOTS / f"search-zh-{len(word)}.png"), full_page=True)
    ctx.close()
    found = {re.sub(r"\.html.*", "", r) for r in results}
    assert expected <= found, f"zh search for {word}: found {sorted(found)}, want {sorted(expected)}"

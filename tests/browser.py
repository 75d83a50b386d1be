"""Find a Chromium-family browser for the browser tests (tests/test_site.py).

Looked for, in order:

1. ``$BIGMODEL_BROWSER``: a path to a Chromium, Chrome or Edge executable;
2. Playwright's own Chromium (``.venv/bin/playwright install chromium`` downloads it);
3. ``chromium``, ``chromium-browser``, ``google-chrome``, ``google-chrome-stable`` on ``PATH``.

Run as a script (``make browser`` does) it prints the executable it found, or explains
how to install one and exits with status 1.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ENV = "BIGMODEL_BROWSER"
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HOW_TO_INSTALL = f"""\
No Chromium-family browser was found for the browser tests (tests/test_site.py).
Install one, then run the command again:
  Debian/Ubuntu:     sudo apt-get install chromium    (or: sudo bash .ci/install-chromium.sh)
  any OS, online:    .venv/bin/playwright install chromium
  one you have:      export {ENV}=/path/to/chrome"""


class BrowserNotFound(RuntimeError):
    """No usable browser; the message says how to install one."""


def playwright_chromium() -> Path | None:
    """The Chromium that ``playwright install chromium`` put in place, if it is there."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as pw:
            path = Path(pw.chromium.executable_path)
    except Exception:  # noqa: BLE001 - Playwright's driver missing or broken: look elsewhere
        return None
    return path if path.is_file() else None


def find_browser() -> Path:
    """The browser executable the tests will drive; raises :class:`BrowserNotFound`."""
    chosen = os.environ.get(ENV)
    if chosen:
        path = Path(chosen).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise BrowserNotFound(f"{ENV}={chosen} is not an executable file; fix or unset it.")
    own = playwright_chromium()
    if own:
        return own
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise BrowserNotFound(HOW_TO_INSTALL)


def main() -> int:
    try:
        print(f"browser for the site tests: {find_browser()}")
    except BrowserNotFound as err:
        print(err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

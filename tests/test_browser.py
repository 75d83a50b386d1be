"""The browser tests find a browser where one exists, and say how to get one where none does."""

from __future__ import annotations

import subprocess
import sys

import pytest

import browser
from conftest import ROOT


@pytest.fixture
def no_playwright_browser(monkeypatch):
    monkeypatch.setattr(browser, "playwright_chromium", lambda: None)


def _fake(tmp_path, name: str, executable: bool = True):
    path = tmp_path / name
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755 if executable else 0o644)
    return path


def test_environment_variable_wins(tmp_path, monkeypatch):
    fake = _fake(tmp_path, "my-chrome")
    monkeypatch.setenv(browser.ENV, str(fake))
    assert browser.find_browser() == fake


def test_a_bad_environment_variable_is_an_error_not_a_fallback(tmp_path, monkeypatch):
    monkeypatch.setenv(browser.ENV, str(_fake(tmp_path, "not-executable", executable=False)))
    with pytest.raises(browser.BrowserNotFound, match="not an executable file"):
        browser.find_browser()


@pytest.mark.parametrize("name", browser.NAMES)
def test_names_on_path(tmp_path, monkeypatch, no_playwright_browser, name):
    monkeypatch.delenv(browser.ENV, raising=False)
    fake = _fake(tmp_path, name)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert browser.find_browser() == fake


def test_none_found_names_the_commands(tmp_path, monkeypatch, no_playwright_browser):
    monkeypatch.delenv(browser.ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(browser.BrowserNotFound) as err:
        browser.find_browser()
    msg = str(err.value)
    assert "apt-get install chromium" in msg and "playwright install chromium" in msg
    assert browser.ENV in msg


def test_script_exits_1_with_the_message(tmp_path):
    """`make browser` relies on the exit status and on the message going to stderr."""
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "browser.py")], capture_output=True, text=True, env=env
    )
    assert r.returncode == 1, r.stdout + r.stderr
    assert "apt-get install chromium" in r.stderr

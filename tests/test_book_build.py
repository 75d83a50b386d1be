"""The site builds with warnings as errors, and every page in the table of contents exists."""

from __future__ import annotations

import re

from conftest import ROOT


def toc_files() -> list[str]:
    return re.findall(r"file:\s*(\S+)", (ROOT / "_toc.yml").read_text()) + [
        re.search(r"root:\s*(\S+)", (ROOT / "_toc.yml").read_text()).group(1)
    ]


def test_book_builds_with_warnings_as_errors(book_build):
    """The one test that fails when the book does not build (the others that need the
    site are skipped then, pointing here)."""
    built_html, error = book_build
    assert error is None, error
    for f in toc_files():
        page = built_html / f"{f}.html"
        assert page.is_file(), f"{page} missing from the build"


def test_every_notebook_is_in_the_toc():
    listed = set(toc_files())
    for nb in (ROOT / "book").glob("*.ipynb"):
        assert f"book/{nb.stem}" in listed, f"{nb.name} is not in _toc.yml"

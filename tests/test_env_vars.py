"""Every ``BIGMODEL_*`` environment variable is documented once, in CONTRIBUTING's table.

The variables are found where they are read: the library, the tools, the tests, the
Makefile, CI and the chapters' sources. A variable read but missing from the table fails,
and so does one the table lists that nothing reads any more.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"\bBIGMODEL_[A-Z][A-Z0-9_]*[A-Z0-9]\b")
SOURCES = [
    *(ROOT / "lib" / "bigmodel").rglob("*.py"),
    *(ROOT / "tools").glob("*.py"),
    *(p for p in (ROOT / "tests").glob("*.py") if p.name != Path(__file__).name),
    *(ROOT / "book" / "md").glob("*.md"),
    ROOT / "Makefile",
    *(ROOT / ".ci").glob("*"),
]


def _documented() -> set[str]:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in NAME.findall(row.split("|")[1])}


def _read() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in SOURCES:
        if path.is_file():
            for name in NAME.findall(path.read_text(encoding="utf-8", errors="replace")):
                found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def test_every_variable_read_is_in_the_table():
    missing = {n: where for n, where in _read().items() if n not in _documented()}
    assert not missing, f"add these to CONTRIBUTING.md, 'Environment variables': {missing}"


def test_every_variable_in_the_table_is_read():
    stale = _documented() - set(_read())
    assert not stale, f"CONTRIBUTING.md lists variables nothing reads: {sorted(stale)}"


def test_the_check_finds_a_new_variable(tmp_path):
    """Null case: a variable that only a new file reads is caught."""
    assert "BIGMODEL_NOT_A_VARIABLE" not in _documented()
    assert NAME.findall('os.environ.get("BIGMODEL_NOT_A_VARIABLE")') == ["BIGMODEL_NOT_A_VARIABLE"]

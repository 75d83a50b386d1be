"""The code stays ruff-clean (the rules are in pyproject.toml), notebooks included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

# Wider code lines are cut off on the rendered page (the book theme's code width).
NOTEBOOK_LINE_LIMIT = 88


def test_ruff_is_clean():
    ruff = Path(sys.executable).with_name("ruff")
    r = subprocess.run(
        [str(ruff), "check", "lib", "tests", "tools", "book"], capture_output=True, text=True, cwd=ROOT
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_notebook_code_fits_the_page():
    too_long = []
    for nb in sorted((ROOT / "book").glob("*.ipynb")):
        for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
            if cell["cell_type"] != "code":
                continue
            for line in "".join(cell["source"]).splitlines():
                if len(line) > NOTEBOOK_LINE_LIMIT:
                    too_long.append(f"{nb.name} cell {i}: {len(line)} chars: {line.strip()[:60]}")
    assert not too_long, "\n".join(too_long)

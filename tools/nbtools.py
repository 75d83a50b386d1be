"""Write a notebook from a compact description (used to author chapters).

    from nbtools import md, code, write
    write("book/x.ipynb", [md("# Title"), code("1 + 1", tags=["nbval-ignore-output"])])

Outputs are not stored here: run `make execute NB=book/x.ipynb` afterwards.
"""

from __future__ import annotations

import textwrap

import nbformat

COLAB_SETUP = '''\
# Colab: install this book's library first (locally, `make venv` has done it).
import os
import sys

REPO = "https://github.com/bigmodel-book/bigmodel-book"
if "google.colab" in sys.modules:
    !pip install -q "bigmodel[apps] @ git+{REPO}"
# TensorFlow's C++ log: errors only; CPU results independent of oneDNN's kernels.
for key, value in {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}.items():
    os.environ.setdefault(key, value)'''


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(textwrap.dedent(text).strip("\n"))


def code(src: str, tags: list[str] | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(textwrap.dedent(src).strip("\n"))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def write(path: str, cells: list) -> None:
    nb = nbformat.v4.new_notebook()
    # The setup cell goes right after the title, so the page still starts with its heading.
    setup = code(COLAB_SETUP, tags=["hide-input"])
    title = cells[:1] if cells and cells[0].cell_type == "markdown" else []
    nb.cells = title + [setup] + cells[len(title):]
    for i, cell in enumerate(nb.cells):  # stable ids: regenerating changes only what changed
        cell.id = f"cell-{i:02d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)

"""Chapter housekeeping: the shared setup cell, and new chapters paired by jupytext.

Each chapter is ``book/md/<name>.md`` (MyST Markdown: edit this) paired with
``book/<name>.ipynb`` (outputs, Colab, nbval, the site); ``make sync`` keeps them equal.

    python tools/nbtools.py new 07_transformer "Attention and the Transformer"
    python tools/nbtools.py setup-cells      # after editing _SETUP, RELEASE or CHAPTER_EXTRAS

Both commands write the Markdown side and then sync the notebook (outputs are kept); run
``make execute NB=book/<name>.ipynb`` afterwards to store fresh outputs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
# The .ipynb in book/, its MyST Markdown twin in book/md/ (Jupyter Book would build a .md
# instead of the .ipynb if the two sat side by side under the same name).
JUPYTEXT_FORMATS = "ipynb,md//md:myst"

# The release the notebooks install on Colab: a tag of the repository, written by the
# release process (README, "Releasing"); tested to equal the package version.
RELEASE = "v0.1.0"
# Extras a chapter needs beyond the core package (Colab has PyTorch and TensorFlow).
CHAPTER_EXTRAS = {"04b_transformer": "text", "06_applications": "apps"}

# The first code cell of every chapter (right after the title). The repository address is
# also the site's (`repository.url` in _config.yml).
_SETUP = '''\
# Colab: install this book's library, the release this page was built from
# (locally, `make venv` has done it).
import os
import sys

REPO = "https://github.com/bigmodel-book/bigmodel-book"
if "google.colab" in sys.modules:
    import subprocess

    spec = f"bigmodel{extras} @ git+{{REPO}}@{release}"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", spec],
                         capture_output=True, text=True)
    if pip.returncode != 0:
        print(pip.stdout[-2000:], pip.stderr[-2000:], sep="\\n")
        raise RuntimeError(f"pip could not install {{spec}}: its message is above")
    # say what changed in Colab's environment (nothing is upgraded silently)
    changed = [ln for ln in pip.stdout.splitlines() if ln.startswith("Successfully")]
    print(*changed, sep="\\n")
# TensorFlow: errors-only C++ log, CPU results independent of oneDNN's kernels, and GPU
# memory taken as needed (so PyTorch can share the GPU); set before TensorFlow loads.
for key, value in {{
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "TF_FORCE_GPU_ALLOW_GROWTH": "true",
}}.items():
    os.environ.setdefault(key, value)'''


def colab_setup(chapter: str) -> str:
    """The setup cell of ``chapter`` (a notebook's stem, e.g. ``"06_applications"``)."""
    extras = CHAPTER_EXTRAS.get(chapter)
    return _SETUP.format(extras=f"[{extras}]" if extras else "", release=RELEASE)


def sync(path: Path) -> None:
    subprocess.run([sys.executable, "-m", "jupytext", "--sync", "--quiet", str(path)], check=True)


def new_chapter(name: str, title: str) -> Path:
    """Create ``book/md/<name>.md`` and its notebook: the title, the setup cell, one cell."""
    md = BOOK / "md" / f"{name}.md"
    if md.exists() or (BOOK / f"{name}.ipynb").exists():
        raise SystemExit(f"{name} exists already")
    nb = nbformat.v4.new_notebook()
    setup = nbformat.v4.new_code_cell(colab_setup(name), metadata={"tags": ["hide-input"]})
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {title}"),
        setup,
        nbformat.v4.new_code_cell("import numpy as np\n\nfrom bigmodel.book import glue"),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["jupytext"] = {"formats": JUPYTEXT_FORMATS}
    jupytext.write(nb, md, fmt="md:myst")
    sync(md)
    return md


def setup_cells() -> list[Path]:
    """Write :func:`colab_setup` into every chapter's first code cell; return the changed files."""
    changed = []
    for md in sorted((BOOK / "md").glob("*.md")):
        nb = jupytext.read(md)
        cell = next(c for c in nb.cells if c.cell_type == "code")
        if cell.source != colab_setup(md.stem):
            cell.source = colab_setup(md.stem)
            jupytext.write(nb, md, fmt="md:myst")
            sync(md)
            changed.append(md)
    return changed


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["new"] and len(args) == 3:
        print(f"created {new_chapter(args[1], args[2])}; add book/{args[1]} to _toc.yml")
    elif args == ["setup-cells"]:
        print("updated:", *setup_cells() or ["nothing"])
    else:
        raise SystemExit(__doc__)

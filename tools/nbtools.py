"""Chapter housekeeping: the shared setup cell, and new chapters paired by jupytext.

Each chapter is ``book/md/<name>.md`` (MyST Markdown: edit this) paired with
``book/<name>.ipynb`` (outputs, Colab, nbval, the site); ``make sync`` keeps them equal.

    python tools/nbtools.py new 07_transformer "Attention and the Transformer"
    python tools/nbtools.py setup-cells      # after editing _SETUP, the version or CHAPTER_EXTRAS
    python tools/nbtools.py release          # the release tag, once every chapter names it

Both commands write the Markdown side and then sync the notebook (outputs are kept); run
``make execute NB=book/<name>.ipynb`` afterwards to store fresh outputs. ``setup-cells``
also sets each notebook's Colab metadata and the site's Colab ref (_config.yml).
"""

from __future__ import annotations

import re
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

# The one ref Colab uses: the tag of the package's version. The setup cell installs it and
# the site's launch button opens the notebook at it (`repository.branch` in _config.yml,
# written by setup-cells); `make release` makes the tag (README, "Releasing").
RELEASE = "v" + re.search(r'^__version__ = "(.+)"',
                          (ROOT / "lib" / "bigmodel" / "__init__.py").read_text(), re.M)[1]
CONFIG = ROOT / "_config.yml"
# Notebook metadata that makes Colab open a chapter on a T4 GPU runtime (what Colab itself
# saves), kept in the Markdown twin's header by jupytext's notebook_metadata_filter.
COLAB_METADATA = {"accelerator": "GPU", "colab": {"gpuType": "T4"}}
METADATA_FILTER = "accelerator,colab.gpuType"
# Extras a chapter needs beyond the core package (Colab has PyTorch and TensorFlow).
CHAPTER_EXTRAS = {"04b_transformer": "text", "06_applications": "apps"}

# The first code cell of every chapter (right after the title). The repository address is
# also the site's (`repository.url` in _config.yml).
_SETUP = '''\
# Colab: install this book's library, the release this page was built from
# (locally, `make venv` has done it; `%env BIGMODEL_REF=main` installs the newest code).
import os
import sys

REPO = "https://github.com/bigmodel-book/bigmodel-book"
REF = os.environ.get("BIGMODEL_REF", "{release}")
if "google.colab" in sys.modules:
    import subprocess

    spec = f"bigmodel{extras} @ git+{{REPO}}@{{REF}}"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", spec],
                         capture_output=True, text=True)
    if pip.returncode != 0:
        ref = subprocess.run(["git", "ls-remote", "--exit-code", REPO, REF],
                             capture_output=True)
        if ref.returncode == 2:  # the repository answered: no such tag or branch
            raise RuntimeError(
                f"{{REF}} is not a tag or branch of {{REPO}} yet: its maintainers "
                "make the tag with `make release` and push it. Meanwhile run "
                "`%env BIGMODEL_REF=main` in a cell, then this cell again.")
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
    set_colab_metadata(nb)
    jupytext.write(nb, md, fmt="md:myst")
    sync(md)
    return md


def set_colab_metadata(nb) -> bool:
    """Give ``nb`` :data:`COLAB_METADATA`, kept by jupytext in the Markdown; True if it changed."""
    before = {k: nb.metadata.get(k) for k in (*COLAB_METADATA, "jupytext")}
    nb.metadata["accelerator"] = COLAB_METADATA["accelerator"]
    nb.metadata.setdefault("colab", {}).update(COLAB_METADATA["colab"])
    nb.metadata.setdefault("jupytext", {})["notebook_metadata_filter"] = METADATA_FILTER
    return before != {k: nb.metadata.get(k) for k in before}


def config_ref(text: str | None = None) -> str:
    """The ref of the site's launch buttons: ``repository.branch`` in _config.yml."""
    match = re.search(r"^repository:\n(?:  .*\n)*?  branch: *(\S+)", text or CONFIG.read_text(), re.M)
    if not match:
        raise SystemExit(f"{CONFIG} has no repository.branch")
    return match.group(1)


def set_config_ref(ref: str = RELEASE) -> bool:
    """Point the site's Colab launch buttons at ``ref``; True if _config.yml changed."""
    text = CONFIG.read_text()
    if config_ref(text) == ref:
        return False
    new = re.sub(r"^(repository:\n(?:  .*\n)*?  branch: *)\S+", rf"\g<1>{ref}", text, count=1, flags=re.M)
    CONFIG.write_text(new)
    return True


def setup_cells() -> list[Path]:
    """Write :func:`colab_setup` into every chapter's first code cell and the Colab metadata
    into its notebook, and :data:`RELEASE` into _config.yml; return the changed files."""
    changed = [CONFIG] if set_config_ref() else []
    for md in sorted((BOOK / "md").glob("*.md")):
        nb = jupytext.read(md)
        cell = next(c for c in nb.cells if c.cell_type == "code")
        if set_colab_metadata(nb) | (cell.source != colab_setup(md.stem)):
            cell.source = colab_setup(md.stem)
            jupytext.write(nb, md, fmt="md:myst")
            sync(md)
            changed.append(md)
    return changed


def release_tag() -> str:
    """:data:`RELEASE`, once the launch buttons and every chapter name it (``make release``)."""
    stale = [] if config_ref() == RELEASE else [f"{CONFIG.name} (repository.branch {config_ref()})"]
    for md in sorted((BOOK / "md").glob("*.md")):
        nb = jupytext.read(md)
        cell = next(c for c in nb.cells if c.cell_type == "code")
        if set_colab_metadata(nb) or cell.source != colab_setup(md.stem):
            stale.append(f"book/md/{md.name}")
    if stale:
        raise SystemExit(f"not {RELEASE} yet: {', '.join(stale)}; "
                         "run `python tools/nbtools.py setup-cells` and commit")
    return RELEASE


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["new"] and len(args) == 3:
        print(f"created {new_chapter(args[1], args[2])}; add book/{args[1]} to _toc.yml")
    elif args == ["setup-cells"]:
        print("updated:", *setup_cells() or ["nothing"])
    elif args == ["release"]:
        print(release_tag())
    else:
        raise SystemExit(__doc__)

"""Drop the per-cell execution timestamps nbclient records, so re-running a notebook
changes its file only where its outputs change.

    python tools/strip_timing.py book/*.ipynb
"""

from __future__ import annotations

import sys

import nbformat


def main(paths: list[str]) -> None:
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
        nbformat.write(nb, path)


if __name__ == "__main__":
    main(sys.argv[1:])

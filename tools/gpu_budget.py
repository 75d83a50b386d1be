"""Each chapter's GPU branch, costed: the knobs cells run as on a CUDA machine.

    python tools/gpu_budget.py            # a table of estimated seconds per chapter
    python tools/gpu_budget.py --json     # the same as JSON (tests/test_budget.py)

For every chapter with a cell tagged ``knobs``, the code cells before it and the knobs
cell run in one IPython shell with :func:`bigmodel.budget.branch` answering "gpu" (not a
dry run), as on a CUDA machine; the cell's ``JOBS`` are then costed on each GPU of
:data:`bigmodel.budget.GPUS`: by their FLOPs at :data:`bigmodel.budget.UTILISATION` of its
peak (what the chapters print), and by the calibrated model
(:func:`bigmodel.budget.predict_seconds`: steps, host operations, memory-bound bytes), which
the budget test uses.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"


def knobs_cells(path: Path) -> tuple[list[str], str | None]:
    """The code before the knobs cell, and the knobs cell's code (None if there is none)."""
    nb = nbformat.read(path, as_version=4)
    before = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "knobs" in cell.metadata.get("tags", []):
            return before, cell.source
        before.append(cell.source)
    return before, None


def cost_chapters(paths: list[Path]) -> dict[str, dict]:
    from IPython.core.interactiveshell import InteractiveShell

    from bigmodel import budget

    budget.branch = lambda kind: budget.Branch("gpu", dry_run=False)  # as on CUDA
    shell = InteractiveShell.instance()
    out = {}
    for path in paths:
        before, knobs = knobs_cells(path)
        if knobs is None:
            out[path.stem] = {"knobs": False}
            continue
        shell.reset()
        for source in [*before, knobs]:
            # no GUI here: the plots' backend does not matter for the knobs
            source = "\n".join(ln for ln in source.splitlines()
                               if not ln.startswith("%matplotlib"))
            result = shell.run_cell(source, silent=True)
            if not result.success:
                raise RuntimeError(f"{path.name}: a cell before the knobs failed: "
                                   f"{result.error_in_exec or result.error_before_exec!r}")
        jobs = shell.user_ns.get("JOBS")
        if not isinstance(jobs, list) or not all(isinstance(j, budget.Job) for j in jobs):
            raise RuntimeError(f"{path.name}: the knobs cell must define JOBS, a list of Job")
        out[path.stem] = {
            "knobs": True,
            "flops": sum(j.flops for j in jobs),
            "seconds": {gpu: budget.seconds(jobs, gpu) for gpu in budget.GPUS},
            "predicted": {gpu: budget.predict_seconds(jobs, gpu) for gpu in budget.GPUS},
            "no_steps": [j.name for j in jobs if j.flops > 0 and j.steps == 0],
        }
    return out


def main(argv: list[str]) -> int:
    import contextlib
    import io

    os.environ.setdefault("MPLBACKEND", "Agg")  # no display: the knobs draw nothing
    with contextlib.redirect_stdout(io.StringIO()):  # the cells' own prints
        table = cost_chapters(sorted(BOOK.glob("*.ipynb")))
    if "--json" in argv:
        print(json.dumps(table))
        return 0
    print(f"{'chapter':28s}{'FLOPs':>10s}{'T4 s, FLOPs only':>18s}{'calibrated':>12s}"
          f"{'A100 s, calibrated':>20s}")
    for name, row in table.items():
        if row["knobs"]:
            s, p = row["seconds"], row["predicted"]
            print(f"{name:28s}{row['flops']:10.2e}{s['T4']:18.1f}{p['T4']:12.1f}{p['A100']:20.1f}")
        else:
            print(f"{name:28s}{'(no knobs: trains nothing)':>26s}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

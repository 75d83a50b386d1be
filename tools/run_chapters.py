"""Run the chapters' code as plain Python, without Jupyter, optionally without TensorFlow.

``make test-cuda`` uses it on a GPU machine that has PyTorch but neither TensorFlow nor
Jupyter: every chapter's code cells run top to bottom in one namespace, with the
chapter's own hidden asserts, on the branch the machine takes (the GPU branch at its real
sizes on CUDA; its ``dry`` sizes on a CPU with ``BIGMODEL_BRANCH=gpu``). Nothing is copied
out of the chapters, so the run cannot drift from them.

With ``--torch-only``, TensorFlow's part is left out statement by statement: a top-level
statement that names TensorFlow (``tf``, ``keras``, ``bigmodel.tf`` and what is imported
from them), or a name that such a statement bound, is skipped, and the names it binds are
skipped in turn. Everything else runs, and the report counts both.

    python tools/run_chapters.py --torch-only [--jobs N] [--out DIR] [--timeout S] [CHAPTER ...]

Each chapter runs in its own interpreter (``--one CHAPTER`` is that child), so one
chapter's failure or time-out is its own line. Exit status 1 if any chapter failed.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import os
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
# Modules whose names make a statement TensorFlow's.
TF_MODULES = ("tensorflow", "keras", "bigmodel.tf", "tf_keras")
# Chapters that need a package a bare PyTorch GPU machine lacks, and run on the CPU anyway.
NOT_ON_A_BARE_GPU = {"06_applications": "its sentence encoder ([apps] extra) runs on the CPU everywhere"}


def chapters() -> list[str]:
    return sorted(p.stem for p in BOOK.glob("*.ipynb"))


def code_cells(chapter: str) -> list[tuple[str, list[str]]]:
    """``(source, tags)`` of each code cell of ``book/<chapter>.ipynb``, magics removed."""
    nb = json.loads((BOOK / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    cells = []
    for c in nb["cells"]:
        if c["cell_type"] != "code":
            continue
        src = "".join(c["source"])
        src = "\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!")))
        cells.append((src, c.get("metadata", {}).get("tags", [])))
    return cells


def _is_tf_module(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in TF_MODULES)


MUTATORS = ("append", "extend", "update", "setdefault", "add", "insert")
# Containers a skipped statement may have filled (a results dict, a captured log).
FILLABLE = (list, dict, set, bytearray, io.IOBase)


def _base_name(node: ast.expr) -> set[str]:
    """``{"d"}`` for ``d``, ``d[k]``, ``d.x[k].y``; empty for anything else."""
    while isinstance(node, (ast.Subscript, ast.Attribute)):
        node = node.value
    return {node.id} if isinstance(node, ast.Name) else set()


def _bound_names(node: ast.stmt) -> set[str]:
    """Names a top-level statement binds or fills (assignments, imports, defs, loop targets,
    with-as; ``d[k] = ...``, ``d.attr = ...`` and ``d.append(...)`` on a plain name)."""
    names = set()
    for n in ast.walk(node):
        if isinstance(n, (ast.Subscript, ast.Attribute)) and isinstance(n.ctx, ast.Store):
            names |= _base_name(n.value)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in MUTATORS:
            names |= _base_name(n.func.value)
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            names.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            for a in n.names:
                names.add(a.asname or a.name.split(".")[0])
    return names


class _FirstUse(ast.NodeVisitor):
    """Each name's first use in evaluation order: ``"load"`` or ``"store"``.

    An assignment's value is read before its targets are bound (``x = f(x)`` reads the old
    ``x``); a loop's iterable before its target; an augmented assignment reads first.
    """

    def __init__(self) -> None:
        self.first: dict[str, str] = {}

    def _use(self, name: str, how: str) -> None:
        self.first.setdefault(name, how)

    def visit_Name(self, node: ast.Name) -> None:
        self._use(node.id, "store" if isinstance(node.ctx, (ast.Store, ast.Del)) else "load")

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for t in node.targets:
            self.visit(t)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            self._use(node.target.id, "load")
        self.visit(node.value)
        self.visit(node.target)

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self.visit(node.target)
        for n in node.body + node.orelse:
            self.visit(n)

    def _comprehension(self, node, *elts) -> None:
        for g in node.generators:  # bound before the element is computed
            self.visit(g.iter)
            self.visit(g.target)
            for n in g.ifs:
                self.visit(n)
        for e in elts:
            self.visit(e)

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, node.elt)

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, node.key, node.value)

    def _function(self, node, body) -> None:
        args = node.args
        for d in args.defaults + [d for d in args.kw_defaults if d is not None]:
            self.visit(d)
        for d in getattr(node, "decorator_list", []):
            self.visit(d)
        for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
            if a is not None:
                self._use(a.arg, "store")
        for n in body if isinstance(body, list) else [body]:
            self.visit(n)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node, node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._function(node, node.body)


def _names_tf(node: ast.stmt, tainted: set[str]) -> bool:
    """Does the statement import TensorFlow, or read a TensorFlow name before binding it?"""
    for n in ast.walk(node):
        if isinstance(n, ast.Import) and any(_is_tf_module(a.name) for a in n.names):
            return True
        if isinstance(n, ast.ImportFrom) and n.module and (
            _is_tf_module(n.module) or (n.module == "bigmodel" and any(a.name == "tf" for a in n.names))
        ):
            return True
        if isinstance(n, ast.Attribute) and n.attr == "tf" and isinstance(n.value, ast.Name):
            if n.value.id == "bigmodel":  # bigmodel.tf.<...>
                return True
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and _is_tf_module(n.value):
            return True  # a module run in a subprocess: python -m bigmodel.tf.distributed
    uses = _FirstUse()
    uses.visit(node)
    return any(how == "load" and name in tainted for name, how in uses.first.items())


def run_chapter(chapter: str, torch_only: bool) -> dict:
    """Execute one chapter's cells in this process; return what ran and what failed."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.chdir(BOOK)  # as Jupyter would
    ns: dict = {"__name__": "__main__"}
    tainted: set[str] = set()
    report = {"chapter": chapter, "cells": 0, "statements": 0, "skipped": 0, "error": None}
    t0 = time.perf_counter()
    for i, (src, tags) in enumerate(code_cells(chapter), start=1):
        try:
            tree = ast.parse(src)
        except SyntaxError as err:
            report["error"] = f"cell {i}: {err}"
            break
        ran = 0
        for stmt in tree.body:
            if torch_only and _names_tf(stmt, tainted):
                tainted |= _bound_names(stmt)
                # what it read and may have filled: later readers would see it half-filled
                uses = _FirstUse()
                uses.visit(stmt)
                tainted |= {n for n in uses.first if isinstance(ns.get(n), FILLABLE)}
                report["skipped"] += 1
                continue
            tainted -= _bound_names(stmt)  # rebound by a PyTorch statement: usable again
            ran += 1
            code = compile(ast.Module(body=[stmt], type_ignores=[]), f"<{chapter} cell {i}>", "exec")
            try:
                exec(code, ns)
            except Exception:  # noqa: BLE001 - reported with the cell, or expected by its tag
                if "raises-exception" in tags:
                    break  # the cell's expected error: its remaining statements are not run
                report["error"] = f"cell {i}:\n{traceback.format_exc(limit=-6)}"
                break
        report["statements"] += ran
        report["cells"] += ran > 0
        if report["error"]:
            break
    report["seconds"] = round(time.perf_counter() - t0, 1)
    try:
        import torch

        if torch.cuda.is_available():
            report["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated() / 2**20)
    except ImportError:  # pragma: no cover
        pass
    return report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("chapters", nargs="*", help="chapter stems (default: every chapter)")
    ap.add_argument("--torch-only", action="store_true", help="leave TensorFlow's statements out")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per chapter (default 600)")
    ap.add_argument("--jobs", type=int, default=1, help="chapters at once, one thread each (default 1)")
    ap.add_argument("--out", type=Path, help="folder for results.json")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.timeout < 1 or args.jobs < 1:
        ap.error("--timeout and --jobs must be positive")
    if args.one:
        print("RESULT " + json.dumps(run_chapter(args.one, args.torch_only)), flush=True)
        return 0
    known = chapters()
    wanted = args.chapters or known
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        ap.error(f"no such chapter(s): {', '.join(unknown)}; chapters are {', '.join(known)}")
    env = dict(os.environ)
    if args.jobs > 1:  # several chapters at once share the cores: one thread each
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                     "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
            env.setdefault(name, "1")

    def one(ch: str) -> dict:
        if args.torch_only and ch in NOT_ON_A_BARE_GPU:
            return {"chapter": ch, "skipped_chapter": NOT_ON_A_BARE_GPU[ch]}
        cmd = [sys.executable, __file__, "--one", ch] + (["--torch-only"] if args.torch_only else [])
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env)
            line = next((ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")), None)
            r = json.loads(line[7:]) if line else {"chapter": ch, "error": p.stderr[-3000:] or "no result"}
        except subprocess.TimeoutExpired:
            r = {"chapter": ch, "error": f"timed out after {args.timeout} s"}
        r["wall_s"] = round(time.perf_counter() - t0, 1)
        return r

    def show(r: dict) -> None:
        if "skipped_chapter" in r:
            print(f"  SKIP {r['chapter']}: {r['skipped_chapter']}", flush=True)
            return
        status = "FAIL" if r.get("error") else "PASS"
        print(f"  {status} {r['chapter']}: {r.get('statements', 0)} statements in {r.get('cells', 0)} cells "
              f"run, {r.get('skipped', 0)} TensorFlow statements left out, {r['wall_s']} s", flush=True)
        if r.get("error"):
            print("    " + r["error"].replace("\n", "\n    "), flush=True)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(one, ch) for ch in wanted]
        results = []
        for fut in as_completed(futures):
            results.append(fut.result())
            show(results[-1])
    results.sort(key=lambda r: wanted.index(r["chapter"]))
    failed = [r["chapter"] for r in results if r.get("error")]
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(results, indent=1))
    skipped = sum("skipped_chapter" in r for r in results)
    which = f" ({', '.join(failed)})" if failed else ""
    print(f"{len(wanted) - len(failed) - skipped} passed, {len(failed)} failed, {skipped} skipped{which}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Draw the book's diagrams for each edition: ``python tools/figures.py [--check]``.

The computation graph (chapter 3) and the GPT's architecture (chapter 4b) carry words, so
each edition shows its own: ``book/figures/NAME.png`` for the English site and
``NAME.zh_CN.png`` for the Chinese one, which Sphinx picks for a ``zh_CN`` build
(``figure_language_filename``). The files are committed, so building the book needs no
CJK font; drawing them does (``bigmodel.plotting.CJK_FONTS``).

Each PNG records a fingerprint of what drew it (the drawing function's source, the words,
the sizes): ``--check`` fails when the code has changed since, naming ``make figures``.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import sys
from pathlib import Path

from PIL import Image

from bigmodel import plotting
from bigmodel.gpt import CONFIGS

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "book" / "figures"
LANGS = ("en", "zh_CN")
# name -> (drawing function, its arguments besides lang)
DIAGRAMS = {
    "computation_graph": (plotting.plot_computation_graph, ()),
    "gpt_architecture": (plotting.plot_gpt_architecture, (CONFIGS["tiny"],)),  # 04b's config
}
KEY = "Description"  # the PNG text chunk that holds the fingerprint


def path_of(name: str, lang: str) -> Path:
    return FIGURES / (f"{name}.png" if lang == "en" else f"{name}.{lang}.png")


def fingerprint(name: str, lang: str) -> str:
    fn, args = DIAGRAMS[name]
    parts = [inspect.getsource(fn), inspect.getsource(plotting._words), repr(args), lang,
             repr(plotting.DIAGRAM_WORDS.get(lang))]
    return "bigmodel-figure " + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def draw(name: str, lang: str) -> Path:
    fn, args = DIAGRAMS[name]
    out = path_of(name, lang)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.png")
    fn(*args, lang=lang).savefig(tmp, dpi=144, metadata={KEY: fingerprint(name, lang)})
    tmp.replace(out)
    return out


def stale() -> list[str]:
    """The figure files missing or drawn by other code than today's."""
    out = []
    for name in DIAGRAMS:
        for lang in LANGS:
            path = path_of(name, lang)
            found = Image.open(path).text.get(KEY) if path.exists() else None
            if found != fingerprint(name, lang):
                out.append(str(path.relative_to(ROOT)))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tools/figures.py", description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="only check that the files are current")
    args = p.parse_args(argv)
    if args.check:
        bad = stale()
        for path in bad:
            print(f"{path}: out of date with bigmodel.plotting; run make figures")
        return 1 if bad else 0
    for name in DIAGRAMS:
        for lang in LANGS:
            print(draw(name, lang).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The Chinese notebooks: ``python tools/zh_notebooks.py [--check]``.

Each chapter's notebook ``book/NAME.ipynb`` gets a Chinese twin,
``locales/zh_CN/notebooks/book/NAME.ipynb``: the same code cells and outputs, and the
Markdown cells with every message (paragraph, heading, list item, table cell, admonition
title) replaced by its translation in ``locales/zh_CN/LC_MESSAGES/book/NAME.po``. The Chinese
site's Colab button opens it (``repository.path_to_book`` in the Chinese build's
configuration, ``tools/i18n.py``) and its download button gives it.

The files are committed (Colab opens a notebook from the repository); ``--check`` fails when
one differs from what the English notebook and the catalogue give today, naming
``make zh-notebooks``, and when a message has no translation.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

import nbformat
import polib
from markdown_it.renderer import RendererHTML
from myst_parser.config.main import MdParserConfig
from myst_parser.parsers.mdit import create_md_parser

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = "zh_CN"
CATALOGUES = ROOT / "locales" / LANGUAGE / "LC_MESSAGES" / "book"
OUT = ROOT / "locales" / LANGUAGE / "notebooks"  # the Chinese build's path_to_book
# the Markdown extensions of _config.yml's parse.myst_enable_extensions
MD = create_md_parser(MdParserConfig(enable_extensions={
    "amsmath", "dollarmath", "colon_fence", "deflist", "substitution"}), RendererHTML)
# directives whose body is prose (parsed as Markdown), and those whose title is a message
PROSE_DIRECTIVES = {"admonition", "dropdown", "note", "tip", "warning", "important", "hint"}
TITLED_DIRECTIVES = {"admonition", "dropdown"}
GLUE = re.compile(r"\{glue:text\}`([\w.-]+\.ipynb)::([^`]+)`")


def messages(po_path: Path) -> dict[str, str]:
    """``{msgid: msgstr}`` of the translated, not fuzzy, messages of a catalogue."""
    return {e.msgid: e.msgstr for e in polib.pofile(str(po_path))
            if e.msgstr and not e.fuzzy and not e.obsolete}


def message_of(content: str) -> str:
    """A Markdown block's text as Sphinx's gettext builder makes it a message."""
    return content.replace("\n", " ").strip()


def notebook_form(msgstr: str, page: str) -> str:
    """A translation as the notebook's own Markdown writes it: a glued value of this page
    by its plain key (the catalogue's cross-document form is for the Chinese site)."""
    return GLUE.sub(lambda m: f"{{glue:text}}`{m.group(2)}`" if m.group(1) == page else m.group(0),
                    msgstr)


class Translator:
    def __init__(self, catalogue: dict[str, str], page: str):
        self.catalogue, self.page = catalogue, page
        self.missing: list[str] = []

    def __call__(self, content: str) -> str:
        msgid = message_of(content)
        if not msgid:
            return content
        if msgid not in self.catalogue:
            self.missing.append(msgid)
            return msgid
        return notebook_form(self.catalogue[msgid], self.page)

    def markdown(self, text: str) -> str:
        """``text`` (a Markdown cell, or a directive's body) with each message translated."""
        lines = text.split("\n")
        edits: list[tuple[int, int, list[str]]] = []  # (first line, end line, new lines)
        tokens = MD.parse(text)
        for i, tok in enumerate(tokens):
            if tok.type in ("paragraph_open", "heading_open", "dt_open") and tok.map:
                inline = tokens[i + 1]
                a, b = tok.map
                first = inline.content.split("\n", 1)[0]
                at = lines[a].find(first)
                prefix = lines[a][:at] if at >= 0 else ""
                edits.append((a, b, [prefix + self(inline.content)]))
            elif tok.type in ("th_open", "td_open"):
                inline = tokens[i + 1]
                row = next(t for t in reversed(tokens[:i]) if t.type == "tr_open")
                if inline.content.strip():
                    a = row.map[0]
                    # cells of one row: edit the row's line cell by cell, in place
                    lines[a] = lines[a].replace(f" {inline.content.strip()} ",
                                                f" {self(inline.content)} ", 1)
            elif tok.type in ("colon_fence", "fence") and tok.info.startswith("{"):
                name, _, title = tok.info[1:].partition("}")
                name, title = name.strip(), title.strip()
                if name not in PROSE_DIRECTIVES:
                    continue
                a, b = tok.map
                head = lines[a]
                if title and name in TITLED_DIRECTIVES:
                    head = head[: head.rindex(title)] + self(title)
                body = tok.content.rstrip("\n").split("\n")
                options = []
                while body and body[0].startswith(":"):
                    options.append(body.pop(0))
                last = lines[b - 1]
                close = [last] if b - 1 > a and last.strip().startswith((":::", "```")) else []
                edits.append((a, b, [head, *options, *self.markdown("\n".join(body)).split("\n"), *close]))
        # tokens nested in a list or quote come after their container: apply bottom-up,
        # skipping edits inside a range already replaced
        done_from = len(lines) + 1
        for a, b, new in sorted(edits, key=lambda e: (-e[0], e[1])):
            if b > done_from:
                continue
            lines[a:b] = new
            done_from = a
        return "\n".join(lines)


def translate_notebook(nb_path: Path, po_path: Path) -> tuple[nbformat.NotebookNode, list[str]]:
    """The Chinese twin of a notebook, and the messages that had no translation."""
    nb = nbformat.read(nb_path, as_version=4)
    zh = copy.deepcopy(nb)
    tr = Translator(messages(po_path), nb_path.name)
    for cell in zh.cells:
        if cell.cell_type == "markdown":
            cell.source = tr.markdown(cell.source)
    zh.metadata["language_info"] = nb.metadata.get("language_info", {})
    zh.metadata["bigmodel"] = {"language": LANGUAGE, "translated_from": f"book/{nb_path.name}"}
    return zh, tr.missing


def out_path(nb_path: Path) -> Path:
    return OUT / "book" / nb_path.name


def chapters() -> list[Path]:
    return sorted((ROOT / "book").glob("*.ipynb"))


def render(nb: nbformat.NotebookNode) -> str:
    return json.dumps(nb, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="tools/zh_notebooks.py", description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="only check that the files are current")
    args = p.parse_args(argv)
    bad = 0
    for nb_path in chapters():
        zh, missing = translate_notebook(nb_path, CATALOGUES / f"{nb_path.stem}.po")
        for msgid in missing:
            print(f"{nb_path.name}: no translation for {msgid[:80]!r} (make gettext, translate)")
        bad += len(missing)
        out, text = out_path(nb_path), render(zh)
        if args.check:
            if not out.exists() or out.read_text(encoding="utf-8") != text:
                print(f"{out.relative_to(ROOT)}: out of date; run make zh-notebooks")
                bad += 1
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(out)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

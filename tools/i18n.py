"""The Chinese edition's two steps: ``python tools/i18n.py gettext`` and ``... zh``.

``gettext`` extracts every English message of the site (``_build/i18n/gettext``) and
brings the catalogues ``locales/zh_CN/LC_MESSAGES/book/*.po`` up to date with
sphinx-intl: a new message arrives untranslated, a changed one arrives marked fuzzy, and
``tests/test_translations.py`` fails on both until they are translated (CONTRIBUTING.md).

``zh`` builds the Chinese site into ``_build/html/zh`` from the same notebooks, so code
and outputs are the English ones by construction. ``_config.yml`` stays the only
configuration that is edited: the Chinese build reads a copy of it with the language set,
written to ``_build/i18n/_config.zh.yml``. Its Colab and download buttons give the Chinese
notebooks (``tools/zh_notebooks.py``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import yaml
from po_check import glossary_terms

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = "zh_CN"
LOCALES = ROOT / "locales"
WORK = ROOT / "_build" / "i18n"
SITE = ROOT / "_build" / "html" / "zh"
ZH_NOTEBOOKS = "locales/zh_CN/notebooks"  # tools/zh_notebooks.py writes them
BIN = Path(sys.executable).parent


def run(cmd: list[str]) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True)


def gettext() -> None:
    """Extract the messages and update the .po files (new: empty; changed: fuzzy)."""
    out = WORK / "gettext"
    shutil.rmtree(out, ignore_errors=True)
    run([BIN / "jupyter-book", "build", ".", "--builder", "custom", "--custom-builder",
         "gettext", "--path-output", out, "-W", "-n", "--keep-going"])
    pot = out / "_build" / "gettext"
    run([BIN / "sphinx-intl", "update", "-p", pot, "-d", LOCALES, "-l", LANGUAGE,
         "--line-width", "-1"])
    # sphinx-intl keeps catalogues of pages that no longer exist; drop them
    catalogues = LOCALES / LANGUAGE / "LC_MESSAGES"
    wanted = {p.relative_to(pot).with_suffix(".po") for p in pot.rglob("*.pot")}
    for po in catalogues.rglob("*.po"):
        if po.relative_to(catalogues) not in wanted:
            print(f"removing {po.relative_to(ROOT)}: its page is gone")
            po.unlink()
            continue
        # sphinx-intl keeps a removed message as an obsolete entry (#~); git keeps history
        catalogue = polib.pofile(str(po), wrapwidth=0)
        stale = catalogue.obsolete_entries()
        for entry in stale:
            catalogue.remove(entry)
        if strip_format_flags(catalogue) or stale:
            catalogue.save()


def strip_format_flags(catalogue: polib.POFile) -> int:
    """Remove ``python-format`` and its kin from every entry; returns how many were removed.

    Babel marks prose with ``25 % of`` as a Python format string; the book's messages are
    prose, and the mark makes ``msgfmt -c`` (and so .po editors) reject good translations.
    """
    removed = 0
    for entry in catalogue:
        for flag in [f for f in entry.flags if f.endswith("-format")]:
            entry.flags.remove(flag)
            removed += 1
    return removed


def zh_config(work: Path = WORK) -> Path:
    """``_config.yml`` with the language set: the Chinese build's configuration."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    sphinx_config = config.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_config["language"] = LANGUAGE
    sphinx_config["locale_dirs"] = [str(LOCALES)]
    # the site title is the root page's title, as translated in its catalogue
    root = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))["root"]
    catalogue = LOCALES / LANGUAGE / "LC_MESSAGES" / f"{root}.po"
    if catalogue.exists():
        found = polib.pofile(str(catalogue)).find(config["title"])
        if found and found.msgstr and not found.fuzzy:
            config["title"] = found.msgstr
    # Sphinx's Chinese search splits words with jieba; the glossary's terms are words
    # (jieba alone would cut 反向传播 in two, and a search for it would find nothing)
    work.mkdir(parents=True, exist_ok=True)
    words = work / "search-words.txt"
    words.write_text("".join(f"{zh}\n" for _, zh in glossary_terms() if len(zh) > 1),
                     encoding="utf-8")
    sphinx_config["html_search_options"] = {"dict": str(words)}
    # the one English string of the theme's own chrome that Sphinx's catalogues lack
    config["sphinx"]["recursive_update"] = True
    sphinx_config["html_theme_options"] = {"search_bar_text": "搜索本书……"}
    # the Colab button opens the Chinese notebook (tools/zh_notebooks.py), in the repository
    config.setdefault("repository", {})["path_to_book"] = ZH_NOTEBOOKS
    # local extensions are found relative to the configuration file's folder
    for name, folder in config["sphinx"].get("local_extensions", {}).items():
        config["sphinx"]["local_extensions"][name] = str(ROOT / folder)
    work.mkdir(parents=True, exist_ok=True)
    path = work / "_config.zh.yml"
    path.write_text("# Generated by tools/i18n.py from _config.yml; do not edit.\n"
                    + yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def zh(site: Path = SITE, work: Path = WORK, strict: bool = True) -> None:
    """Build the Chinese site into ``site`` (default ``_build/html/zh``)."""
    out = work / "zh"
    # a fresh environment: a changed catalogue or extension must reach every page
    shutil.rmtree(out, ignore_errors=True)
    flags = ["-W", "-n", "--keep-going"] if strict else []
    run([BIN / "jupyter-book", "build", ".", "--config", zh_config(work), "--path-output",
         out, *flags])
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(out / "_build" / "html", site)
    # the download button gives the page's source: the Chinese notebook, not the English
    for nb in (ROOT / ZH_NOTEBOOKS).rglob("*.ipynb"):
        target = site / "_sources" / nb.relative_to(ROOT / ZH_NOTEBOOKS)
        if target.exists():
            shutil.copyfile(nb, target)
    print(f"Chinese site: {site}/index.html")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="tools/i18n.py", description=__doc__.splitlines()[0])
    p.add_argument("step", choices=["gettext", "zh"])
    p.add_argument("--no-strict", action="store_true", help="zh: warnings are not errors")
    p.add_argument("--site", type=Path, default=SITE, help="zh: where the site goes")
    p.add_argument("--work", type=Path, default=WORK, help="zh: the build's own folder")
    args = p.parse_args(argv)
    if args.step == "gettext":
        gettext()
    else:
        zh(args.site.resolve(), args.work.resolve(), strict=not args.no_strict)


if __name__ == "__main__":
    main()

"""Sphinx extension for the book's two languages (loaded through ``_config.yml``).

- The API reference's docstrings and the display equations are not messages to
  translate: docstrings stay English (issue #11), and an equation reads the same in both
  languages. Both are marked untranslatable before Sphinx extracts or translates messages.
- The captions of the table of contents (the parts in ``_toc.yml``) are messages of the
  root page: sphinx-external-toc inserts them after Sphinx has extracted and translated
  the page's messages, so this extension does both for them.
- Every HTML page gets a link to the same page in the other language. The English site is
  ``_build/html/``, the Chinese one ``_build/html/zh/`` (``make book`` builds both).
"""

from __future__ import annotations

from docutils import nodes
from sphinx import addnodes, locale
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util.i18n import docname_to_domain

ZH_DIR = "zh"  # the Chinese site's folder inside the English one


class KeepEnglish(SphinxTransform):
    """Mark docstrings (autodoc's ``desc`` nodes and module docstrings) and display math
    as untranslatable."""

    default_priority = 10  # before sphinx.transforms.i18n.Locale (20)

    def apply(self, **kwargs) -> None:
        for desc in self.document.findall(addnodes.desc):
            for node in desc.findall(nodes.Element):
                node["translatable"] = False
        for node in self.document.findall(nodes.math_block):
            node["translatable"] = False
        for node in self.document.findall(nodes.Element):
            if ":docstring of " in (node.source or ""):
                node["translatable"] = False
                node["classes"].append("docstring")  # English on every site (tests)
        # MyST-NB leaves the text inside a directive of a notebook's Markdown cell (an
        # admonition's table, a dropdown's list) without a source, and Sphinx skips such
        # text when it extracts and translates messages: give it the page's source.
        source = self.document.get("source")
        for node in self.document.findall(nodes.TextElement):
            if node.source or _in_code_cell(node):
                continue
            node.source = source
            if node.line is None:
                node.line = next((a.line for a in _ancestors(node) if a.line), 0)


class TocCaptions(SphinxTransform):
    """Extract (gettext builder) or translate (other languages) the toctree captions."""

    default_priority = 150  # after sphinx-external-toc's InsertToctrees (100)

    def apply(self, **kwargs) -> None:
        app = self.app
        domain = docname_to_domain(self.env.docname, app.config.gettext_compact)
        catalog = None
        if app.builder.name != "gettext" and app.config.language not in (None, "en"):
            dirs = [str(app.srcdir / d) for d in app.config.locale_dirs]
            catalog, found = locale.init(dirs, app.config.language, domain)
            if not found:
                return
        for toc in self.document.findall(addnodes.toctree):
            caption = toc.get("caption")
            if not caption:
                continue
            if app.builder.name == "gettext":
                toc.uid = ""  # what Sphinx's gettext builder does for its own toctrees
                app.builder.catalogs[domain].add(caption, toc)
            elif catalog is not None:
                toc["caption"] = toc["rawcaption"] = catalog.gettext(caption)


def _ancestors(node: nodes.Node):
    while node.parent is not None:
        node = node.parent
        yield node


def _in_code_cell(node: nodes.Node) -> bool:
    """Inside a notebook code cell (its source or its outputs)."""
    return any(isinstance(a, nodes.container) and "cell" in a.get("classes", [])
               for a in _ancestors(node))


def is_chinese(language: str | None) -> bool:
    return bool(language) and language.lower().startswith("zh")


def switch_href(pagename: str, language: str | None) -> str:
    """Relative address of ``pagename`` in the other language's site, from this page."""
    depth = pagename.count("/")
    if is_chinese(language):
        return "../" * (depth + 1) + pagename + ".html"
    return "../" * depth + f"{ZH_DIR}/" + pagename + ".html"


def add_switch(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Put the language link at the top of every page's body."""
    if "body" not in context:
        return
    zh = is_chinese(app.config.language)
    label, lang = ("English", "en") if zh else ("中文", "zh-CN")
    title = "Read this page in English" if zh else "阅读本页的中文版"
    link = (
        f'<p class="language-switch"><a class="language-switch-link" hreflang="{lang}" '
        f'lang="{lang}" title="{title}" href="{switch_href(pagename, app.config.language)}">'
        f"{label}</a></p>\n"
    )
    context["body"] = link + context["body"]


def setup(app: Sphinx) -> dict:
    app.add_transform(KeepEnglish)
    app.add_transform(TocCaptions)
    app.connect("html-page-context", add_switch)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

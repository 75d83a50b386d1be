"""The Chinese notebooks: each chapter's twin in ``locales/zh_CN/notebooks/book`` holds the
English notebook's code and outputs and the catalogue's translations, and is current."""

from __future__ import annotations

import sys

import nbformat
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import zh_notebooks  # noqa: E402

CHAPTERS = zh_notebooks.chapters()


@pytest.mark.parametrize("nb_path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chinese_notebook_is_current_and_fully_translated(nb_path):
    zh, missing = zh_notebooks.translate_notebook(nb_path, zh_notebooks.CATALOGUES / f"{nb_path.stem}.po")
    assert missing == [], f"no translation for {missing[:3]} (make gettext, translate)"
    out = zh_notebooks.out_path(nb_path)
    assert out.exists() and out.read_text(encoding="utf-8") == zh_notebooks.render(zh), \
        f"{out.relative_to(ROOT)} is out of date: run make zh-notebooks"


@pytest.mark.parametrize("nb_path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chinese_notebook_has_the_english_code_and_outputs(nb_path):
    en = nbformat.read(nb_path, as_version=4)
    zh = nbformat.read(zh_notebooks.out_path(nb_path), as_version=4)
    assert [c.cell_type for c in zh.cells] == [c.cell_type for c in en.cells]
    for a, b in zip(en.cells, zh.cells, strict=True):
        if a.cell_type == "code":
            assert (a.source, a.get("outputs"), a.metadata) == (b.source, b.get("outputs"), b.metadata)
        else:
            assert b.source != a.source or not a.source.strip(), a.source[:80]
    assert zh.metadata.get("accelerator") == en.metadata.get("accelerator")  # Colab's GPU


def test_each_kind_of_block_is_translated():
    catalogue = {"A heading": "一个标题", "A paragraph over two lines.": "分两行的段落。",
                 "An item": "一项", "A cell": "一格", "Another cell": "另一格",
                 "Solution": "解答", "A solution.": "一个解答。",
                 "A value: {glue:text}`x:.1f`.": "一个值：{glue:text}`01_x.ipynb::x:.1f`。"}
    tr = zh_notebooks.Translator(catalogue, "01_x.ipynb")
    text = ("## A heading\n\nA paragraph\nover two lines.\n\n- An item\n\n"
            "| A cell | Another cell |\n| --- | --- |\n| A cell | Another cell |\n\n"
            "$$\nx = 1\n$$\n\n:::{dropdown} Solution\n:class: tip\nA solution.\n:::\n\n"
            "A value: {glue:text}`x:.1f`.")
    assert tr.markdown(text) == (
        "## 一个标题\n\n分两行的段落。\n\n- 一项\n\n"
        "| 一格 | 另一格 |\n| --- | --- |\n| 一格 | 另一格 |\n\n"
        "$$\nx = 1\n$$\n\n:::{dropdown} 解答\n:class: tip\n一个解答。\n:::\n\n"
        "一个值：{glue:text}`x:.1f`。")
    assert tr.missing == []


def test_an_untranslated_message_is_reported():
    """Null case: a paragraph the catalogue lacks is named, and stays English."""
    tr = zh_notebooks.Translator({"Known.": "已知。"}, "01_x.ipynb")
    assert tr.markdown("Known.\n\nA new paragraph.") == "已知。\n\nA new paragraph."
    assert tr.missing == ["A new paragraph."]


@pytest.mark.site
def test_chinese_site_opens_and_downloads_the_chinese_notebook(built_html):
    page = "04_mnist_practice"
    zh = (built_html / "zh" / "book" / f"{page}.html").read_text(encoding="utf-8")
    en = (built_html / "book" / f"{page}.html").read_text(encoding="utf-8")
    assert f"/locales/zh_CN/notebooks/book/{page}.ipynb" in zh
    assert "/locales/zh_CN/" not in en and f"/book/{page}.ipynb" in en
    download = built_html / "zh" / "_sources" / "book" / f"{page}.ipynb"
    assert download.read_bytes() == zh_notebooks.out_path(ROOT / "book" / f"{page}.ipynb").read_bytes()

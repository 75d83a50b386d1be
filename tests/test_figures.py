"""The diagrams with words are drawn for each edition, and the committed files are current.

``tools/figures.py`` draws them; the pages show ``book/figures/NAME.png``, and the Chinese
site ``NAME.zh_CN.png`` (Sphinx's ``figure_language_filename``).
"""

from __future__ import annotations

import re
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import figures  # noqa: E402

from bigmodel import plotting  # noqa: E402
from bigmodel.gpt import CONFIGS  # noqa: E402

CJK = re.compile(r"[\u4e00-\u9fff\u3000-\u303f\uff01-\uff5e]")  # Chinese, or its punctuation
# the words the Chinese diagrams keep in Latin script: symbols, layer names, shapes
LATIN_KEPT = {"id", "x", "B", "T", "V", "C", "MLP", "GELU", "LayerNorm", "softmax", "logit",
              "top"}


def test_committed_figures_are_current():
    assert figures.stale() == [], "run make figures"


def test_a_changed_word_makes_the_figure_stale(monkeypatch):
    """Null case: the check sees a change to the Chinese words."""
    words = {**plotting.DIAGRAM_WORDS["zh_CN"], "scalar": "纯量"}
    monkeypatch.setitem(plotting.DIAGRAM_WORDS, "zh_CN", words)
    assert figures.stale() == ["book/figures/computation_graph.zh_CN.png",
                               "book/figures/gpt_architecture.zh_CN.png"]


def test_chinese_words_are_chinese():
    for en, zh in plotting.DIAGRAM_WORDS["zh_CN"].items():
        latin = set(re.findall(r"[A-Za-z]+", re.sub(r"\{\w+\}", "", zh))) - LATIN_KEPT
        assert CJK.search(zh) and not latin, (en, zh)


def test_every_word_of_a_chinese_diagram_has_its_translation(monkeypatch):
    """The Chinese table is strict: a word drawn without a translation is an error. (Drawn
    without a CJK font: no glyph is rendered here, only the words looked up.)"""
    monkeypatch.setattr(plotting, "_font", lambda lang: {})
    plotting.plot_computation_graph("zh_CN")
    plotting.plot_gpt_architecture(CONFIGS["tiny"], "zh_CN")
    with pytest.raises(KeyError):
        plotting._words("zh_CN")("an English word nobody translated")
    with pytest.raises(ValueError, match="lang must be"):
        plotting.plot_computation_graph("fr")


@pytest.mark.site
@pytest.mark.parametrize("page, name", [("03_fcnn_equations", "computation_graph"),
                                        ("04b_transformer", "gpt_architecture")])
def test_each_site_shows_its_own_diagram(built_html, page, name):
    en = (built_html / "book" / f"{page}.html").read_text(encoding="utf-8")
    zh = (built_html / "zh" / "book" / f"{page}.html").read_text(encoding="utf-8")
    assert f"{name}.png" in en and f"{name}.zh_CN.png" not in en
    assert f"{name}.zh_CN.png" in zh

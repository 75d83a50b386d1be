"""The Chinese edition's catalogues: complete, current, faithful in markup and terms.

``locales/zh_CN/LC_MESSAGES/book/*.po`` hold one translation per English message of the
site (CONTRIBUTING.md, "The Chinese edition"). These tests fail, naming the file and the
message, when a message is untranslated or fuzzy, when the English has changed since the
catalogues were updated (``make gettext``), when a translation lost a role, a glued number
or a code span, or when it does not use the glossary's Chinese term. The built pages are
checked too: every glued number of an English page is on its Chinese page.
"""

from __future__ import annotations

import ast
import collections
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import po_check
import polib
import pytest

from conftest import ROOT

CATALOGUES = po_check.catalogues()
IDS = [str(p.relative_to(po_check.CATALOGUES)) for p in CATALOGUES]


def test_there_is_a_catalogue_for_every_page():
    pages = {p.stem for p in (ROOT / "book").glob("*.ipynb")} | {p.stem for p in (ROOT / "book").glob("*.md")}
    have = {p.stem for p in CATALOGUES}
    assert pages <= have, f"pages without a catalogue (run make gettext): {sorted(pages - have)}"


@pytest.mark.parametrize("po", CATALOGUES, ids=IDS)
def test_every_message_is_translated_and_not_fuzzy(po):
    catalogue = polib.pofile(str(po))
    bad = [f"untranslated: {e.msgid[:100]!r}" for e in catalogue.untranslated_entries()]
    bad += [f"fuzzy: {e.msgid[:100]!r}" for e in catalogue.fuzzy_entries()]
    assert not bad, f"{po.relative_to(ROOT)}: {len(bad)} messages\n" + "\n".join(bad)


@pytest.mark.parametrize("po", CATALOGUES, ids=IDS)
def test_translations_keep_markup_glue_and_terms(po):
    problems = [p for p in po_check.check_file(po) if not p.what.startswith(("untranslated", "fuzzy"))]
    assert not problems, "\n".join(str(p) for p in problems)


@pytest.fixture(scope="module")
def fresh_messages(tmp_path_factory) -> dict[str, set[str]]:
    """The messages of today's English pages, extracted by Sphinx's gettext builder."""
    out = tmp_path_factory.mktemp("gettext")
    jb = Path(sys.executable).with_name("jupyter-book")
    r = subprocess.run(
        [
            str(jb),
            "build",
            str(ROOT),
            "--builder",
            "custom",
            "--custom-builder",
            "gettext",
            "--path-output",
            str(out),
            "-W",
            "-n",
            "--keep-going",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    pot = out / "_build" / "gettext"
    return {
        str(p.relative_to(pot).with_suffix(".po")): {e.msgid for e in polib.pofile(str(p))}
        for p in pot.rglob("*.pot")
    }


def test_catalogues_match_the_english_pages(fresh_messages):
    """An English sentence changed or added without `make gettext` and a translation fails."""
    have = {
        str(p.relative_to(po_check.CATALOGUES)): {e.msgid for e in polib.pofile(str(p)) if not e.obsolete}
        for p in CATALOGUES
    }
    report = []
    for name, msgids in sorted(fresh_messages.items()):
        missing = msgids - have.get(name, set())
        report += [f"{name}: English not in the catalogue: {m[:100]!r}" for m in sorted(missing)]
    for name, msgids in sorted(have.items()):
        stale = msgids - fresh_messages.get(name, set())
        report += [f"{name}: no longer in the English: {m[:100]!r}" for m in sorted(stale)]
    assert not report, (
        f"{len(report)} differences; run `make gettext`, translate, and run this test again:\n"
        + "\n".join(report[:40])
    )


# --- the checker itself can fail ----------------------------------------------------------

TERMS = [("gradient", "梯度"), ("GPU", "图形处理器"), ("optimizer", "优化器")]


def problems(msgid: str, msgstr: str, flags=(), tcomment="") -> list[str]:
    entry = polib.POEntry(msgid=msgid, msgstr=msgstr, flags=list(flags), tcomment=tcomment)
    return po_check.check_entry(entry, "01_x.ipynb", TERMS)


def test_checker_accepts_a_faithful_translation():
    assert (
        problems(
            "The {doc}`glossary` lists {glue:text}`n_terms` terms; see `fit` and $x^2$.",
            "{doc}`glossary`列出了 {glue:text}`01_x.ipynb::n_terms:s` 个术语；见 `fit` 和 $x^2$。",
        )
        == []
    )
    assert problems("PyTorch", "PyTorch") == []
    assert problems("The GPU computes the gradients.", "GPU 计算梯度。") == []


@pytest.mark.parametrize(
    "msgstr, flags, what",
    [
        ("", (), "untranslated"),
        ("梯度 {glue:text}`01_x.ipynb::loss:.2f` 。", ("fuzzy",), "fuzzy"),
        ("梯度的损失是 {glue:text}`loss:.2f`。", (), "glue role"),
        ("梯度的损失是 {glue:text}`02_y.ipynb::loss:.2f`。", (), "glue role"),
        ("梯度的损失是 {glue:text}`01_x.ipynb::loss:.3f`。", (), "markup differs"),
        ("梯度的损失是 0.25。", (), "markup differs"),
        ("斜率的损失是 {glue:text}`01_x.ipynb::loss:.2f`。", (), "glossary"),
        ("The gradient's loss is {glue:text}`01_x.ipynb::loss:.2f` (梯度).", (), "still English"),
        ("1. 梯度的损失是 {glue:text}`01_x.ipynb::loss:.2f`。", (), "starts like a Markdown block"),
        ("梯度的“**损失**”是 {glue:text}`01_x.ipynb::loss:.2f`。", (), None),
        ("梯度的**“损失”**是 {glue:text}`01_x.ipynb::loss:.2f`。", (), "emphasis that does not render"),
        ("梯度的*损失*是 {glue:text}`01_x.ipynb::loss:.2f`。", (), "emphasis set the English way"),
        ("梯度的 **损失** 是 {glue:text}`01_x.ipynb::loss:.2f`。", (), "emphasis set the English way"),
    ],
)
def test_checker_finds(msgstr, flags, what):
    found = problems("The gradient's *loss* is {glue:text}`loss:.2f`.", msgstr, flags)
    if what is None:
        assert found == []
    else:
        assert any(p.startswith(what) for p in found), found


def test_checker_terms_allow_plurals_and_british_spelling_not_other_words():
    assert problems("Two optimisers.", "两种优化方法。")  # optimiser = optimizer
    assert problems("Gradients.", "导数。")
    assert not problems("Gradient-free search.", "无导数搜索。")  # another word
    assert not problems("Use `gradient`.", "使用 `gradient`。")  # code is not prose


def test_checker_wants_the_source_quoted_as_it_stands():
    msgid = 'The article says "大模型通常被视为“黑箱”" ("usually seen as a black box").'
    assert not problems(msgid, "原文说“大模型通常被视为‘黑箱’”。")  # nested quote marks differ
    found = problems(msgid, "原文说，大模型常被看作黑箱。")
    assert any(p.startswith("the source's sentence") for p in found), found


@pytest.mark.parametrize("po", CATALOGUES, ids=IDS)
def test_no_message_is_marked_as_a_format_string(po):
    """Babel marks prose with "25 % of" or "{cite:p}" as a Python format string, and then
    msgfmt -c (and .po editors) reject good translations; make gettext strips the marks."""
    marked = [e.msgid[:80] for e in polib.pofile(str(po)) if any(f.endswith("-format") for f in e.flags)]
    assert not marked, f"{po.relative_to(ROOT)}: format flags (run make gettext): {marked}"


def test_strip_format_flags_removes_them_and_msgfmt_accepts_the_result(tmp_path):
    """Null case: a planted python-format entry with a "%" translation is refused by msgfmt -c
    until the flag is stripped."""
    import shutil

    import i18n

    msgfmt = shutil.which("msgfmt")
    catalogue = polib.POFile()
    catalogue.metadata = {"Content-Type": "text/plain; charset=UTF-8"}
    catalogue.append(polib.POEntry(msgid="About 25 % of the time.", msgstr="大约 25% 的时间。",
                                   flags=["python-format"]))
    path = tmp_path / "x.po"
    catalogue.save(str(path))
    if msgfmt:
        assert subprocess.run([msgfmt, "-c", "-o", os.devnull, str(path)]).returncode != 0
    assert i18n.strip_format_flags(catalogue) == 1 and catalogue[0].flags == []
    catalogue.save(str(path))
    if msgfmt:
        assert subprocess.run([msgfmt, "-c", "-o", os.devnull, str(path)]).returncode == 0


def test_checker_wants_percent_signs_tight():
    found = problems("About 25 % of the time.", "大约 25 % 的时间。")
    assert any(p.startswith("a space before %") for p in found), found
    assert not problems("About 25 % of the time.", "大约 25% 的时间。")
    assert not problems("Use `x % 2`.", "使用 `x % 2`。")  # code keeps its spaces
    assert po_check.fix_percent("约 {glue:text}`a::b:.1f` %，3 %") == "约 {glue:text}`a::b:.1f`%，3%"


def test_checker_wants_no_space_between_chinese_and_a_chinese_role():
    msgid = "The {doc}`10_challenges` chapter returns to it."
    found = problems(msgid, "挑战一章 {doc}`10_challenges` 会再谈到。")
    assert any(p.startswith("a space between Chinese and a") for p in found), found
    assert not problems(msgid, "挑战一章{doc}`10_challenges`会再谈到。")
    # a page whose Chinese title starts in Latin keeps its space: "见 MNIST 实战"
    assert po_check.chinese_titles()["04_mnist_practice"].startswith("MNIST")
    assert po_check.fix_role_spaces("见 {doc}`04_mnist_practice` 中") == "见 {doc}`04_mnist_practice`中"


def test_checker_wants_chinese_emphasis_bold_and_tight():
    """Null cases first: Latin titles stay italic, code and maths keep their stars."""
    assert not problems("Read *Deep Learning with Python*.", "读 *Deep Learning with Python*。")
    assert not problems("Compute `a*b*c` and $x*y*z$.", "计算 `a*b*c` 和 $x*y*z$。")
    fix = po_check.fix_emphasis
    assert fix("除以一个*温度*，") == "除以一个**温度**，"
    assert fix("权重按 *输入 × 输出* 存储") == "权重按**输入 × 输出**存储"
    assert fix("**回答。** 没错") == "**回答**。没错"
    assert fix("**我们的发现：**") == "**我们的发现**："
    assert fix("**选择 $\\varepsilon$。** 分别") == "**选择 $\\varepsilon$**。分别"
    found = problems("**Answer.** Yes.", "**回答。** 是的。")
    assert any(p.startswith("emphasis set the English way") for p in found), found
    assert not problems("**Answer.** Yes.", "**回答**。是的。")


def test_checker_finds_a_sentence_ended_twice():
    msgid = 'It says "减少需求。" (§9.5).'
    found = problems(msgid, "原文说“减少需求。”（§9.5）。")
    assert any(p.startswith("two stops in a row") for p in found), found
    assert not problems(msgid, "原文（§9.5）说：“减少需求。”")


def test_checker_wants_logit_and_the_measure_word_for_images():
    found = problems("The logits of 10 images.", "10 幅图像的 logits。")
    assert any(p.startswith("a plural the Chinese does not use") for p in found), found
    assert po_check.fix_words("10 幅图像的 logits，`with_logits`") == "10 张图像的 logit，`with_logits`"
    assert not problems("A stride of 2 and its amplitude.", "步幅为 2，以及它的幅度。")


def test_checker_wants_rank_and_world_size_glossed_where_first_used():
    assert po_check.unglossed(["一个 rank 写入", "rank 0 的地址"]) == ["rank"]
    assert po_check.unglossed(["rank 0（编号为 0 的进程）写入", "rank 1 在第 2 步"]) == []
    assert po_check.unglossed(["错误的 world size，以及"]) == ["world size"]
    assert po_check.unglossed(["`--node-rank=0` 与梯度"]) == []  # code is not prose


def test_fix_glue_writes_the_cross_document_form():
    fixed = po_check.fix_glue("约 {glue:text}`n` 个，{glue:text}`x:.1f` 倍", "01_x.ipynb")
    assert fixed == "约 {glue:text}`01_x.ipynb::n:s` 个，{glue:text}`01_x.ipynb::x:.1f` 倍"


def test_glossary_terms_are_read_from_the_glossary():
    terms = dict(po_check.glossary_terms())
    assert terms["backpropagation"] == "反向传播" and terms["token"] == "词元"
    assert "Transformer" not in terms  # no Chinese form: it stays Transformer


# --- the built Chinese pages ----------------------------------------------------------------

PASTED = re.compile(r'<span class="pasted-text">(.*?)</span>')


def page_names() -> list[str]:
    return sorted(p.stem for p in (ROOT / "book").glob("*.ipynb"))


def glued_values(page: str) -> dict[str, object]:
    """The values a notebook glued, by name, read from its stored outputs."""
    values = {}
    for cell in json.loads((ROOT / "book" / f"{page}.ipynb").read_text(encoding="utf-8"))["cells"]:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            text = out.get("data", {}).get("application/papermill.record/text/plain")
            if name and text is not None:
                values[name] = ast.literal_eval("".join(text))
    return values


def chinese_count_forms(page: str) -> dict[str, str]:
    """``{"1746 亿": "174.6"}``: each Chinese count glued as ``KEY_zh`` (``glue_count``) and
    what the English page shows for ``KEY``, in the format its prose uses."""
    values = glued_values(page)
    prose = (ROOT / "book" / "md" / f"{page}.md").read_text(encoding="utf-8")
    forms = {}
    for name, zh in values.items():
        if not name.endswith("_zh"):
            continue
        base = name[: -len("_zh")]
        fmts = set(re.findall(r"\{glue:text\}`" + re.escape(base) + r":([^`]+)`", prose))
        assert len(fmts) == 1, f"{page}: {base} should have one format in the prose, has {fmts}"
        forms[zh] = format(values[base], fmts.pop())
    return forms


def test_chinese_count_forms_pair_the_two_pages():
    forms = chinese_count_forms("05_text_generation")
    assert forms and all(re.search(r"[万亿]", zh) for zh in forms), forms
    assert all(re.fullmatch(r"[\d.,]+", en) for en in forms.values()), forms


@pytest.mark.parametrize("page", page_names())
def test_every_glued_number_reaches_the_chinese_page(built_html, page):
    """Chinese counts (``1746 亿``) stand for the English number they round the same way."""
    en = (built_html / "book" / f"{page}.html").read_text(encoding="utf-8")
    zh = (built_html / "zh" / "book" / f"{page}.html").read_text(encoding="utf-8")
    forms = chinese_count_forms(page)
    want = collections.Counter(PASTED.findall(en))
    got = collections.Counter(forms.get(v, v) for v in PASTED.findall(zh))
    assert want, f"{page}: no glued numbers found in the English page"
    assert want == got, f"{page}: glued values missing {want - got}, extra {got - want}"


def glued_english(text: str) -> bool:
    """Whether a glued value is an English phrase (two or more lower-case Latin words, as
    in "7 read as 2 (31 times)"), not a number, a name or a code word (``ValueError``)."""
    return len(po_check.LATIN_WORD.findall(text)) >= 2


def test_glued_english_is_recognised():
    """Null case: a planted English phrase is caught; numbers, names and Chinese counts pass."""
    assert glued_english("7 read as 2 (31 times)")
    assert not any(glued_english(t) for t in ["1746 亿", "0.985", "lucas", "ValueError", "GPT-3"])


@pytest.mark.parametrize("page", page_names())
def test_no_english_phrase_is_glued_into_a_chinese_page(built_html, page):
    """Glue numbers, not phrases: a glued English phrase shows as English on the Chinese page."""
    zh = (built_html / "zh" / "book" / f"{page}.html").read_text(encoding="utf-8")
    english = [t for t in PASTED.findall(zh) if glued_english(t)]
    assert not english, f"{page}: English glued into the Chinese page: {english}"


def test_chinese_glossary_lists_each_term_in_chinese(built_html):
    """The Chinese glossary's entries start with the Chinese form the catalogues are held to.

    (Each translated message is held to the glossary by
    ``test_translations_keep_markup_glue_and_terms``.)
    """
    html = (built_html / "zh" / "book" / "glossary.html").read_text(encoding="utf-8")
    dts = [
        re.sub(r'<a class="headerlink".*?</a>', "", dt)
        for dt in re.findall(r"<dt[^>]*>(.*?)</dt>", html, re.S)
    ]
    entries = [re.sub(r"<[^>]+>", "", dt).strip() for dt in dts]
    for en, zh in po_check.glossary_terms():
        assert f"{zh} ({en})" in entries, f"no glossary entry '{zh} ({en})' in {entries}"

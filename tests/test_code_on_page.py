"""Every model a chapter trains or checks is shown on a page, included from the library.

A chapter's code cells construct models (``torch_gpt.GPT(...)``, ``tf_fcnn.FCNN(...)``)
or call the NumPy references; some chapter must show that code with a MyST
``literalinclude`` of the library file and ``:pyobject:``, so the page cannot drift from
what the tests check.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from conftest import ROOT

LIB = ROOT / "lib" / "bigmodel"
# what a code cell writes -> (library file, object) that must be shown
MODELS = {
    r"\btorch_fcnn\.FCNN\(|\bTorchFCNN\(": ("torch/fcnn.py", "FCNN"),
    r"\btf_fcnn\.FCNN\(": ("tf/fcnn.py", "FCNN"),
    r"\btorch_cnn\.CNN\(": ("torch/cnn.py", "CNN"),
    r"\btf_cnn\.CNN\(": ("tf/cnn.py", "CNN"),
    r"\btorch_gpt\.GPT\(|\bTorchGPT\(": ("torch/gpt.py", "GPT"),
    r"\btf_gpt\.GPT\(|\bTFGPT\(": ("tf/gpt.py", "GPT"),
    r"\bfcnn\.loss_and_grads\(": ("numpy/fcnn.py", "loss_and_grads"),
    r"\bnp_cnn\.forward\(": ("numpy/cnn.py", "forward"),
    r"\bgpt_forward\(": ("numpy/gpt.py", "gpt_forward"),
    r"\blora_linear\(": ("numpy/lora.py", "lora_linear"),
    r"\btorch_encoder\.Encoder\(": ("torch/encoder.py", "Encoder"),
    r"\btf_encoder\.Encoder\(": ("tf/encoder.py", "Encoder"),
    r"\bencoder_forward\(": ("numpy/encoder.py", "encoder_forward"),
    r"\btorch_lora\.add_lora\(": ("torch/lora.py", "LoRA"),
    r"\btf_lora\.add_lora\(": ("tf/lora.py", "LoRA"),
    r"\btorch_classify\.GPTClassifier\(": ("torch/classify.py", "GPTClassifier"),
    r"\bclassifier_forward\(": ("numpy/classify.py", "classifier_forward"),
}
INCLUDE = re.compile(r"```\{literalinclude\} \.\./lib/bigmodel/(\S+)\n((?::\w+:.*\n)*)")


def chapters() -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted((ROOT / "book" / "md").glob("*.md"))}


def code_of(md: str) -> str:
    return "\n".join(re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", md, flags=re.S))


def shown(md: str) -> set[tuple[str, str]]:
    out = set()
    for path, options in INCLUDE.findall(md):
        obj = re.search(r":pyobject: (\S+)", options)
        if obj:
            out.add((path, obj.group(1)))
    return out


def missing(pages: dict[str, str]) -> dict[tuple[str, str], list[str]]:
    """Models used in some chapter's code and shown on no page -> the chapters using them."""
    on_pages = set().union(*(shown(md) for md in pages.values()))
    out: dict[tuple[str, str], list[str]] = {}
    for name, md in pages.items():
        code = code_of(md)
        for rx, target in MODELS.items():
            if re.search(rx, code) and target not in on_pages:
                out.setdefault(target, []).append(name)
    return out


def test_every_model_a_chapter_uses_is_shown_on_a_page():
    gaps = missing(chapters())
    assert not gaps, "models used but never shown (add a literalinclude with :pyobject:):\n" + "\n".join(
        f"{path}:{obj} (used in {', '.join(chs)})" for (path, obj), chs in gaps.items())


def test_the_check_finds_a_model_that_is_not_shown():
    """Null case: a chapter that trains the PyTorch GPT, and no page that shows it."""
    page = "```{code-cell} ipython3\nm = torch_gpt.GPT(config)\n```\n"
    assert missing({"x": page}) == {("torch/gpt.py", "GPT"): ["x"]}
    shown_too = page + "```{literalinclude} ../lib/bigmodel/torch/gpt.py\n:pyobject: GPT\n```\n"
    assert missing({"x": shown_too}) == {}


@pytest.mark.parametrize("chapter", sorted(chapters()))
def test_every_included_object_exists(chapter):
    for path, obj in shown(chapters()[chapter]):
        file = LIB / path
        assert file.is_file(), f"{chapter}: {path} is not in lib/bigmodel"
        names = {n.name for n in ast.parse(file.read_text()).body
                 if isinstance(n, ast.FunctionDef | ast.ClassDef)}
        assert obj in names, f"{chapter}: {path} has no top-level {obj}"


def test_the_include_paths_resolve_from_the_book():
    for md in chapters().values():
        for path, _ in INCLUDE.findall(md):
            assert (ROOT / "book" / Path("../lib/bigmodel") / path).resolve().is_file(), path

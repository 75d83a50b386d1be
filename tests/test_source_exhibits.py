"""Where a chapter shows the source's own code or names its steps, it shows the source's
Chinese words as they stand (an English translation may follow each).

The source article is not in this repository; its words are quoted here, and checked
against the article itself where a copy is at hand (``../shared/source``).
"""

from __future__ import annotations

import re

import pytest

from conftest import ROOT

SOURCE = next((ROOT.parent / "shared" / "source").glob("*.txt"), None) \
    if (ROOT.parent / "shared" / "source").is_dir() else None

# the comments of the source's §5.2 program, in order
PROGRAM_COMMENTS = ["定义模型参数", "初始化模型参数", "定义激活函数", "定义前向传播过程", "定义损失函数",
                    "定义优化器", "训练模型", "加载数据", "转换数据类型", "训练模型", "测试模型"]
# the seven steps of the source's §3.2
TRAINING_STEPS = ["数据预处理", "模型初始化", "前向传播", "损失函数计算", "反向传播", "优化更新", "迭代训练"]
CJK = re.compile(r"[\u4e00-\u9fff]+")


def code_cells(page: str) -> list[str]:
    md = (ROOT / "book" / "md" / f"{page}.md").read_text(encoding="utf-8")
    return re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", md, flags=re.S)


def program_comments(cell: str) -> list[str]:
    """The Chinese that opens each whole-line comment of a cell, in order."""
    return [m.group(1) for m in re.finditer(r"^# ([\u4e00-\u9fff]+)", cell, flags=re.M)]


def step_comments(cell: str) -> list[tuple[int, str]]:
    """``(n, chinese)`` for every ``N. 中文`` inside a comment, sorted by n."""
    found = []
    for comment in re.findall(r"#(.*)$", cell, flags=re.M):
        found += [(int(n), zh) for n, zh in re.findall(r"(\d)\. ([\u4e00-\u9fff]+)", comment)]
    return sorted(found)


@pytest.mark.skipif(SOURCE is None, reason="the source article is not at ../shared/source")
def test_the_quoted_words_are_the_sources():
    text = SOURCE.read_text(encoding="utf-8")
    program = text[text.index("# 定义模型参数"):]
    program = program[: program.index("```")]
    assert re.findall(r"^# (\S+)", program, flags=re.M) == PROGRAM_COMMENTS
    assert re.findall(r"^\d\. \*\*(\S+?)\*\*", text, flags=re.M)[:7] == TRAINING_STEPS


def test_mnist_chapter_shows_the_programs_own_comments():
    cell = next(c for c in code_cells("04_mnist_practice") if "def train_model" in c)
    assert program_comments(cell) == PROGRAM_COMMENTS


def test_history_chapter_names_the_seven_steps_as_the_source_does():
    cell = next(c for c in code_cells("01_history_and_concepts") if "loss_and_grads" in c)
    assert step_comments(cell) == list(enumerate(TRAINING_STEPS, start=1))


def test_the_checks_fail_on_translated_comments():
    """Null case: the program with its comments in English only, as this book showed it."""
    assert program_comments("# Define the model's sizes\ninput_dim = 784\n") == []
    assert step_comments("# 1. Data preprocessing\n# 2. 模型初始化 (init)\n") == [(2, "模型初始化")]

"""One poet held out of the Tang poems (bigmodel.text.poet_split): nothing of the test set
reaches pretraining or the pools, the pools nest, and bad arguments are refused by name."""

from __future__ import annotations

import pytest

from bigmodel import data, train
from bigmodel.text.poems import is_han
from bigmodel.text.poet_split import FINETUNE_POET, MIN_SHARED_HAN, split_poet

A, B, C = "甲", "乙", "丙"
AUTHORS = [A, B, A, C, A, A, B, A, C]
PARAGRAPHS = [
    ["床前明月光，", "疑是地上霜。"],
    ["白日依山盡，", "黃河入海流。"],
    ["春眠不覺曉，", "處處聞啼鳥。"],
    ["春眠不覺曉，", "夜來風雨聲。"],  # shares a whole line with A's third poem
    ["床前明月光，", "疑是地上霜。"],  # A's first poem, printed again
    [],  # a poem without lines
    ["）。"],  # editorial debris: too short to count as a shared line
    ["千山鳥飛絕，", "萬徑人蹤滅。", "）。"],
    ["紅豆生南國，", "）。"],
]


def test_the_split_of_a_small_collection():
    s = split_poet(AUTHORS, PARAGRAPHS, A, n_test=1, seed=0)
    own = {"床前明月光，\n疑是地上霜。", "春眠不覺曉，\n處處聞啼鳥。", "千山鳥飛絕，\n萬徑人蹤滅。\n）。"}
    assert s.removed_repeats == 1 and len(s.test) + len(s.pool_order) == len(own)
    assert set(s.test) | set(s.pool_order) == own and not set(s.test) & set(s.pool_order)
    # C's first poem shares a verse line and goes; the shared "）。" removes nothing
    assert s.removed_shared_line == 1
    assert s.pretrain == ["白日依山盡，\n黃河入海流。", "）。", "紅豆生南國，\n）。"]


def test_pools_nest_and_the_seed_deals_the_poems():
    authors = [A] * 12
    paragraphs = [[f"第{i}首詩句長，"] for i in "一二三四五六七八九十百千"]
    s0 = split_poet(authors, paragraphs, A, n_test=4, seed=0)
    assert s0.pool(2) == s0.pool(5)[:2] and len(s0.pool(8)) == 8
    assert s0 == split_poet(authors, paragraphs, A, n_test=4, seed=0)
    s1 = split_poet(authors, paragraphs, A, n_test=4, seed=1)
    assert s1.test != s0.test  # another seed, another test set (a null for "seeded")
    with pytest.raises(ValueError, match="a pool of 9 poems asked for; 甲 has 8"):
        s0.pool(9)


@pytest.mark.parametrize("kwargs, message", [
    ({"poet": "李賀"}, r"no poem by '李賀' in the collection; the poets with the most poems: 甲 \(5\)"),
    ({"n_test": 3}, "n_test=3 leaves no poem to fine-tune on: 甲 has 3 distinct poems"),
    ({"n_test": 0}, "n_test"),
    ({"seed": -1}, "seed"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        split_poet(AUTHORS, PARAGRAPHS, **{"poet": A, **kwargs})


def test_lists_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="9 authors for 8 poems"):
        split_poet(AUTHORS, PARAGRAPHS[:-1], A)


@pytest.fixture(scope="module")
def tang(shared_data) -> data.TangPoems:
    return data.load_tang_poems(shared_data)


def test_the_collection_split_as_documented(tang):
    s = split_poet(tang.author, tang.paragraphs)
    assert s.poet == FINETUNE_POET and tang.author.count(FINETUNE_POET) == 3009
    assert s.removed_repeats == 20 and s.removed_shared_line == 26
    assert len(s.test) == 500 and len(s.test) + len(s.pool_order) == 3009 - 20
    pretrain_lines = {line for poem in s.pretrain for line in poem.split("\n")}
    held = [line for poem in s.test + s.pool_order for line in poem.split("\n")
            if sum(map(is_han, line)) >= MIN_SHARED_HAN]
    assert not pretrain_lines.intersection(held)  # no verse line of the poet in pretraining
    assert not set(s.test) & set(s.pool_order)


def test_the_pretraining_corpus_keeps_the_whole_vocabulary(shared_data, tang):
    text = train.corpus_text("tang-without-bai-juyi", shared_data)
    s = split_poet(tang.author, tang.paragraphs)
    assert text == "\n\n".join(s.pretrain)
    tok = train.corpus_tokenizer("tang-without-bai-juyi", shared_data)
    assert tok == train.corpus_tokenizer("tang", shared_data)
    assert set("".join(s.test)) <= set(tok.chars) and not set("".join(s.test)) <= set(text)

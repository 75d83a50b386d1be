"""The form measure of Tang poems: half-lines of 5 or 7 Han characters."""

from __future__ import annotations

import math

import pytest

from bigmodel.text import poems

JINGYESI = "床前明月光，疑是地上霜。\n舉頭望明月，低頭思故鄉。"  # Li Bai, five-character lines


def test_a_couplet_is_two_half_lines():
    assert poems.half_line_lengths("床前明月光，疑是地上霜。") == [5, 5]
    assert poems.half_line_lengths(JINGYESI) == [5, 5, 5, 5]
    assert poems.form_share(JINGYESI) == 1.0


def test_seven_character_lines_and_other_lengths():
    seven = "朝辭白帝彩雲間，千里江陵一日還。"
    assert poems.half_line_lengths(seven) == [7, 7]
    assert poems.form_share(seven) == 1.0
    # 4 + 6 characters: neither is a Tang form
    assert poems.form_share("關關雎鳩，在河之洲兮啊。") == 0.0
    assert poems.form_share(seven + "\n關關雎鳩，") == pytest.approx(2 / 3)


def test_only_han_characters_count_and_breaks_split():
    # brackets, quotes, Latin letters and digits are ignored; the lost-character box counts
    assert poems.half_line_lengths("「床前」明月光（a1）") == [5]
    assert poems.half_line_lengths("床前□月光") == [5]
    # ASCII punctuation and the other full-width marks break as well
    assert poems.half_line_lengths("一二三,四五六七!八；九十：甲、乙？") == [3, 4, 1, 2, 1, 1]
    # a line without a mark is one half-line; blank lines and runs of marks count nothing
    assert poems.half_line_lengths("床前明月光\n\n，。\n疑是地上霜") == [5, 5]
    # characters of the supplementary planes (extension B) are Han too
    assert poems.half_line_lengths("𧽼前明月光") == [5]


def test_is_han():
    assert poems.is_han("鄉") and poems.is_han("□") and poems.is_han("㴩")
    assert not any(poems.is_han(c) for c in "，。a1 「")
    with pytest.raises(TypeError, match="one-character str"):
        poems.is_han("床前")


def test_text_without_han_has_no_share_and_bad_input_is_refused():
    assert math.isnan(poems.form_share("To be, or not to be.\n"))
    assert math.isnan(poems.form_share(""))
    with pytest.raises(TypeError, match="text must be a str, got ndarray; decode token ids"):
        import numpy as np

        poems.form_share(np.arange(3))


def test_the_corpus_share(shared_data):
    """The Tang corpus itself: 91.6 % of its half-lines have 5 or 7 characters."""
    from bigmodel import data

    text = data.tang_text(data.load_tang_poems(shared_data))
    lengths = poems.half_line_lengths(text)
    assert len(lengths) == 538_668
    assert lengths.count(5) == 330_218 and lengths.count(7) == 163_277
    assert poems.form_share(text) == pytest.approx(0.9161, abs=1e-4)

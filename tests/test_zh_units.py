"""Counts glued for the Chinese page are written in 万 and 亿, the units Chinese counts in."""

from __future__ import annotations

import pytest

from bigmodel.book import zh_count


@pytest.mark.parametrize(("count", "resolution", "want"), [
    (174.6e9, 1e8, "1746 亿"),   # "174.6 billion" (01, 05)
    (2.9e6, 1e5, "290 万"),      # "2.9 million times" (01)
    (1.24e8, 1e6, "1.24 亿"),    # "124 million" (01)
    (1.1e6, 1e5, "110 万"),      # "1.1 million characters" (05)
    (1.17e9, 1e7, "11.7 亿"),    # "1.17 × 10⁹ sentence pairs" (06)
    (51e9, 1e9, "510 亿"),       # "51 billion" (10)
    (1400e9, 1e9, "1.4 万亿"),
    (9999.0, 1.0, "9999"),
    (1e4, 1.0, "1 万"),
])
def test_counts_in_chinese_units(count, resolution, want):
    assert zh_count(count, resolution) == want


def test_the_null_case_english_units_would_fail():
    """The translationese the Chinese edition had: 174.6 十亿 is not how Chinese counts."""
    assert zh_count(174.6e9, 1e8) != "174.6 十亿"
    assert "十亿" not in zh_count(174.6e9, 1e8) and "百万" not in zh_count(2.9e6, 1e5)


@pytest.mark.parametrize("bad", [float("nan"), -1.0, float("inf")])
def test_bad_counts_are_refused(bad):
    with pytest.raises(ValueError, match="zh_count: count must be"):
        zh_count(bad)

"""The form of Tang poems, measured: how many half-lines have 5 or 7 characters.

Regulated Tang verse has lines of five (五言) or seven (七言) characters. In the published
text of 《全唐诗》 (:func:`bigmodel.data.load_tang_poems`) one printed line is usually a
couplet whose halves end in ``，`` and ``。``: ``"床前明月光，疑是地上霜。"`` is two
5-character half-lines. :func:`form_share` counts such half-lines in any text (the corpus,
or what a model generated), so a model's grasp of the form is one number.

Definitions (the same for every text):

- a *half-line* (句) is a piece of the text between two breaks; a break is a line break or
  one of the punctuation marks in ``BREAKS`` (full-width ``，。！？；：、`` and their ASCII
  forms ``,.!?;:``);
- its *length* is the number of its Han characters (:func:`is_han`: CJK ideographs, and
  ``□``, which the source prints for a character lost in the manuscripts); any other
  character in it (brackets, quotes, Latin letters, digits, spaces) is ignored;
- half-lines of length 0 (blank lines, a run of punctuation) are not counted;
- the *form share* is the number of half-lines of length 5 or 7 over the number counted.
"""

from __future__ import annotations

import re
from collections import Counter

__all__ = ["BREAKS", "form_share", "half_line_lengths", "is_han"]

BREAKS = "，。！？；：、,.!?;:\n"
_SPLIT = re.compile("[" + re.escape(BREAKS) + "\r]")

# (first, last) code points of the CJK ideograph blocks: unified ideographs, extension A,
# compatibility ideographs, and the supplementary-plane extensions B to I with their
# compatibility supplement.
_HAN_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0xF900, 0xFAFF),
    (0x20000, 0x323AF),
)
LOST = "□"  # U+25A1, a character lost in the sources


def is_han(ch: str) -> bool:
    """True for one CJK ideograph (or ``□``, a lost character), False for anything else."""
    if not isinstance(ch, str) or len(ch) != 1:
        raise TypeError(f"ch must be a one-character str, got {ch!r}")
    if ch == LOST:
        return True
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _HAN_RANGES)


def half_line_lengths(text: str) -> list[int]:
    """The length (Han characters) of each non-empty half-line of ``text``, in order.

    ``half_line_lengths("床前明月光，疑是地上霜。\\n舉頭望明月，低頭思故鄉。") == [5, 5, 5, 5]``.

    Raises:
        TypeError: ``text`` is not a ``str``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}; decode token ids first")
    lengths = (sum(map(is_han, piece)) for piece in _SPLIT.split(text))
    return [n for n in lengths if n > 0]


def form_share(text: str, lengths: tuple[int, ...] = (5, 7)) -> float:
    """Share in [0, 1] of the non-empty half-lines of ``text`` whose length is in ``lengths``.

    See the module docstring for what a half-line and its length are. Returns ``nan`` for a
    text without Han characters (nothing to measure).

    Raises:
        TypeError: ``text`` is not a ``str``.
    """
    counts = Counter(half_line_lengths(text))
    total = sum(counts.values())
    if total == 0:
        return float("nan")
    return sum(counts[n] for n in lengths) / total

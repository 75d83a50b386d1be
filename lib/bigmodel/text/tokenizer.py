"""Character-level tokenizer: the source's step 1, "split the text and turn it into indices".

A character tokenizer is the smallest honest tokenizer: the vocabulary is the sorted set of
characters seen in the training text (65 for Tiny Shakespeare), a token id is the position
of its character in that list. GPT-2 and GPT-3 use byte-level BPE with 50,257 tokens
instead; the model code does not care which.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..files import atomic_write_text

__all__ = ["CharTokenizer"]


class CharTokenizer:
    """Map characters to ids ``0..vocab_size-1`` and back.

    Args:
        chars: the vocabulary, one character per entry, no repeats. Usually built with
            :meth:`from_text`.

    Raises:
        ValueError: an entry is not a single character, or a character repeats.
    """

    def __init__(self, chars: Iterable[str]):
        chars = list(chars)
        for i, c in enumerate(chars):
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"vocabulary entry {i} is {c!r}; each entry must be one character")
            if "\ud800" <= c <= "\udfff":  # half of a UTF-16 pair: no file can hold it
                raise ValueError(
                    f"vocabulary entry {i} is {c!r}, a lone surrogate, which is not a character "
                    "and cannot be saved as UTF-8; clean the text first, e.g. "
                    "text.encode('utf-8', 'replace').decode('utf-8')"
                )
        if len(set(chars)) != len(chars):
            seen: set[str] = set()
            dup = sorted({c for c in chars if c in seen or seen.add(c)})
            raise ValueError(f"vocabulary repeats characters {dup!r}")
        if not chars:
            raise ValueError("the vocabulary is empty")
        self.chars: list[str] = chars
        self.stoi: dict[str, int] = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(cls, text: str) -> CharTokenizer:
        """The tokenizer whose vocabulary is the sorted set of characters in ``text``."""
        return cls(sorted(set(text)))

    @property
    def vocab_size(self) -> int:
        """Number of distinct tokens (65 for Tiny Shakespeare)."""
        return len(self.chars)

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"

    def encode(self, text: str) -> np.ndarray:
        """``text`` (length ``n``) -> token ids ``(n,)`` int64.

        Raises:
            ValueError: ``text`` holds a character outside the vocabulary; the message
                names it and its position.
        """
        try:
            return np.fromiter((self.stoi[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError:
            pos = next(i for i, c in enumerate(text) if c not in self.stoi)
            raise ValueError(
                f"character {text[pos]!r} at position {pos} is not in the vocabulary "
                f"of {self.vocab_size} characters"
            ) from None

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        """Token ids ``(n,)`` -> a string of ``n`` characters.

        Raises:
            ValueError: an id is outside ``[0, vocab_size)``, is not an integer (a float is
                not truncated), or ``ids`` holds more than one sequence.
        """
        ids = np.asarray(ids)
        if ids.ndim > 1:
            raise ValueError(
                f"ids has shape {ids.shape}; decode takes one sequence (n,). For a batch, "
                "decode each row: [tok.decode(row) for row in ids]"
            )
        ids = ids.reshape(-1)
        if ids.size and not (np.issubdtype(ids.dtype, np.integer) and ids.dtype != bool):
            raise ValueError(f"ids has dtype {ids.dtype}; token ids are integers")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            bad = int(ids[(ids < 0) | (ids >= self.vocab_size)][0])
            raise ValueError(f"token id {bad} is outside [0, {self.vocab_size})")
        return "".join(self.chars[int(i)] for i in ids)

    def save(self, path: str | os.PathLike) -> None:
        """Write the vocabulary as JSON: ``{"type": "char", "chars": [...]}``, atomically
        (:func:`bigmodel.files.atomic_write`: a failure leaves an earlier file intact)."""
        atomic_write_text(path, json.dumps({"type": "char", "chars": self.chars}, ensure_ascii=False))

    @classmethod
    def load(cls, path: str | os.PathLike) -> CharTokenizer:
        """Read a vocabulary written by :meth:`save`.

        Raises:
            ValueError: the file is not such a vocabulary (empty, not JSON, another kind);
                the message names the file.
        """
        try:
            data = json.loads(Path(path).read_text("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"{path} is not a character-tokenizer vocabulary: {err}") from None
        if not isinstance(data, dict) or data.get("type") != "char" or "chars" not in data:
            raise ValueError(f"{path} is not a character-tokenizer vocabulary")
        return cls(data["chars"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharTokenizer) and self.chars == other.chars

    __hash__ = None  # type: ignore[assignment]

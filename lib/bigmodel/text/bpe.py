"""Byte-level BPE, trained with Hugging Face ``tokenizers``: the tokenizer family of GPT-2/3.

Byte-pair encoding starts from an alphabet and repeatedly merges the most frequent
adjacent pair of tokens in the training text into a new token, until the vocabulary has
the size asked for. GPT-2's variant (Radford et al., 2019) runs on the UTF-8 *bytes* of
the text: its alphabet is the 256 byte values, so any string can be encoded (no unknown
token), and merges never cross the boundaries of its pre-tokenizer's pieces (runs of
letters, of digits, of punctuation, with a leading space). GPT-2's vocabulary has 50,257
tokens (its released files hold 50,000 merges, the 256 bytes and one end-of-text token).

:func:`train_bpe` builds that tokenizer (``tokenizers``' ``ByteLevel`` pre-tokenizer and
decoder around a BPE model) on a text of the reader's choice. A bigger vocabulary means
fewer tokens per character, so shorter sequences for the same text, at the price of a
bigger embedding table and rarer tokens: :func:`tokens_per_char` measures that trade-off.
A Chinese character is 3 UTF-8 bytes, so before any merge Chinese text costs 3 tokens per
character and English 1.

Training is deterministic: the same text and size give the same merges (tested).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from ..files import atomic_write_text

__all__ = ["BYTE_ALPHABET", "BPE", "tokens_per_char", "train_bpe"]

BYTE_ALPHABET = 256  # the byte-level alphabet: every vocabulary holds these 256 tokens


def _tokenizers():
    """The ``tokenizers`` package, or an error that says how to install it."""
    try:
        import tokenizers
    except ModuleNotFoundError as err:
        if err.name != "tokenizers":
            raise
        raise ModuleNotFoundError(
            "bigmodel.text.bpe needs Hugging Face tokenizers, which is not installed. Install it "
            "with pip install 'bigmodel[text]' (or pip install tokenizers).",
            name="tokenizers",
        ) from err
    return tokenizers


def _check_text(text: object, name: str = "text") -> list[str]:
    """``text`` (a str, or a list/tuple of str) as a list of non-empty pieces, or an error."""
    if isinstance(text, str):
        pieces = [text]
    elif isinstance(text, (list, tuple)) and all(isinstance(t, str) for t in text):
        pieces = list(text)
    else:
        raise TypeError(
            f"{name} must be a str (or a list of str), got {type(text).__name__}; "
            "decode bytes first, e.g. raw.decode('utf-8')"
        )
    if not any(pieces):
        raise ValueError(f"{name} is empty: BPE learns its merges from text, so give it some")
    return pieces


def _check_vocab_size(vocab_size: object) -> int:
    if not isinstance(vocab_size, (int, np.integer)) or isinstance(vocab_size, bool):
        raise TypeError(f"vocab_size must be an int, got {type(vocab_size).__name__}")
    if vocab_size < BYTE_ALPHABET:
        raise ValueError(
            f"vocab_size={vocab_size} is smaller than the byte alphabet: a byte-level BPE "
            f"holds all {BYTE_ALPHABET} byte values before any merge. Use vocab_size >= "
            f"{BYTE_ALPHABET} ({BYTE_ALPHABET} = bytes only, no merges)."
        )
    return int(vocab_size)


class BPE:
    """A trained byte-level BPE tokenizer (a thin wrapper of ``tokenizers.Tokenizer``).

    Build one with :func:`train_bpe` or :meth:`load`. Token ids run from 0 to
    ``vocab_size - 1``; ids 0-255 are the 256 single bytes (ordered by GPT-2's printable
    stand-in characters, not by byte value), the rest are merges in the order learned.
    """

    def __init__(self, tokenizer):
        self._tok = tokenizer

    @property
    def vocab_size(self) -> int:
        """The number of tokens, the 256 bytes plus the merges learned (at most the size asked)."""
        return int(self._tok.get_vocab_size())

    @property
    def n_merges(self) -> int:
        """The number of merges learned, ``vocab_size - 256``."""
        return self.vocab_size - BYTE_ALPHABET

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        return f"BPE(vocab_size={self.vocab_size})"

    def encode(self, text: str) -> np.ndarray:
        """``text`` -> token ids ``(n,)`` int64. Any string is encodable (no unknown token).

        Raises:
            TypeError: ``text`` is not a ``str``.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return np.asarray(self._tok.encode(text).ids, dtype=np.int64)

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        """Token ids ``(n,)`` -> text; ``decode(encode(s)) == s`` for every string ``s``.

        A cut through a multi-byte character (possible when decoding a slice of ids)
        shows as U+FFFD.

        Raises:
            ValueError: an id is outside ``[0, vocab_size)``.
        """
        arr = np.asarray(ids).reshape(-1)
        if arr.size and (arr.min() < 0 or arr.max() >= self.vocab_size):
            bad = int(arr[(arr < 0) | (arr >= self.vocab_size)][0])
            raise ValueError(f"token id {bad} is outside [0, {self.vocab_size})")
        return self._tok.decode([int(i) for i in arr], skip_special_tokens=False)

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes that token ``token_id`` stands for."""
        if not 0 <= int(token_id) < self.vocab_size:
            raise ValueError(f"token id {token_id} is outside [0, {self.vocab_size})")
        # The vocabulary stores each byte as a printable stand-in character (GPT-2's
        # table, e.g. "Ġ" for a space); map them back to bytes.
        inverse = {c: b for b, c in enumerate(_byte_chars())}
        return bytes(inverse[c] for c in self._tok.id_to_token(int(token_id)))

    def pieces(self, text: str) -> list[str]:
        """How ``text`` is split: one readable string per token.

        A token that holds whole UTF-8 characters shows as them (a leading space included);
        a token that holds part of a character (common for Chinese before merges) shows
        as its bytes in hex, e.g. ``"<e5 85>"``.
        """
        out = []
        for i in self.encode(text):
            raw = self.token_bytes(int(i))
            try:
                out.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                out.append("<" + raw.hex(" ") + ">")
        return out

    def tokens_per_char(self, text: str) -> float:
        """``len(encode(text)) / len(text)``: tokens per character (lower = shorter sequences)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        _check_text(text)
        return len(self.encode(text)) / len(text)

    # ------------------------------------------------------------ files

    def save(self, path: str | os.PathLike) -> None:
        """Write the tokenizer as ``tokenizers``' JSON (readable by ``Tokenizer.from_file``),
        atomically (:func:`bigmodel.files.atomic_write`)."""
        atomic_write_text(path, self._tok.to_str())

    @classmethod
    def load(cls, path: str | os.PathLike) -> BPE:
        """Read a file written by :meth:`save`.

        Raises:
            ValueError: the file is not such a tokenizer (empty, not UTF-8 JSON, another kind,
                or one ``tokenizers`` cannot build); the message names the file.
        """
        try:
            text = Path(path).read_text("utf-8")
            data = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"{path} is not a BPE tokenizer file: {err}") from None
        model = data.get("model", {}) if isinstance(data, dict) else {}
        if not isinstance(model, dict) or model.get("type") != "BPE":
            raise ValueError(f"{path} is not a BPE tokenizer file")
        try:
            return cls(_tokenizers().Tokenizer.from_str(text))
        except Exception as err:  # tokenizers raises its own Exception, not a subclass
            raise ValueError(f"{path} is not a BPE tokenizer file that tokenizers can read: "
                             f"{err}") from None


def _byte_chars() -> list[str]:
    """GPT-2's printable stand-in character for each byte value 0-255 (``bytes_to_unicode``).

    Printable Latin-1 bytes stand for themselves; the others are shifted to code points
    from 256 on, so that every byte is one visible character in the vocabulary file.
    """
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(
        range(0xAE, 0xFF + 1)
    )
    chars = {}
    n = 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + n)
            n += 1
    return [chars[b] for b in range(256)]


def train_bpe(text: str | Sequence[str], vocab_size: int) -> BPE:
    """Train a byte-level BPE with ``vocab_size`` tokens on ``text``.

    Args:
        text: the training text, or a list of texts.
        vocab_size: tokens in the result, the 256 bytes included (>= 256). A text with
            too few distinct pairs ends with fewer (see :attr:`BPE.vocab_size`).

    Returns:
        :class:`BPE`; the same text and size always give the same merges.

    Raises:
        TypeError: ``text`` is not a str (or list of str), or ``vocab_size`` not an int.
        ValueError: ``text`` is empty, or ``vocab_size < 256``.
    """
    pieces = _check_text(text)
    vocab_size = _check_vocab_size(vocab_size)
    hf = _tokenizers()
    models, pre_tokenizers, trainers = hf.models, hf.pre_tokenizers, hf.trainers

    tok = hf.Tokenizer(models.BPE())
    # GPT-2's pre-tokenizer: its regex splits the text into pieces (letters, digits,
    # punctuation, each with a leading space), and each piece into bytes.
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = hf.decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,  # a pair seen once is no pattern
        show_progress=False,
        special_tokens=[],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    # one line at a time (ends kept): the pre-tokenizer sees the same pieces as in one string
    lines = (line for p in pieces for line in p.splitlines(keepends=True))
    tok.train_from_iterator(lines, trainer)
    return BPE(tok)


def tokens_per_char(
    text: str, vocab_sizes: Sequence[int], train_text: str | Sequence[str] | None = None
) -> dict[int, float]:
    """Tokens per character of ``text`` under a BPE of each size in ``vocab_sizes``.

    Each tokenizer is trained on ``train_text`` (default: ``text`` itself); measure on
    held-out text to see what a tokenizer does on text it did not learn from.

    Returns:
        ``{vocab_size: tokens / characters}``, in the order given; decreasing in the size.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    _check_text(text)
    if isinstance(vocab_sizes, (int, np.integer)) or not len(vocab_sizes):
        raise ValueError(f"vocab_sizes must be a non-empty list of ints, got {vocab_sizes!r}")
    sizes = [_check_vocab_size(v) for v in vocab_sizes]
    source = text if train_text is None else train_text
    return {v: train_bpe(source, v).tokens_per_char(text) for v in sizes}

"""Byte-level BPE (Hugging Face tokenizers): training, round trips, the size/length trade-off."""

from __future__ import annotations

import numpy as np
import pytest

from bigmodel.text import bpe

# a small English and Chinese text: enough repeated pairs for a few hundred merges
TEXT = (
    "To be, or not to be, that is the question:\n"
    "Whether 'tis nobler in the mind to suffer\n"
    "The slings and arrows of outrageous fortune,\n"
    "Or to take arms against a sea of troubles\n"
    "床前明月光，疑是地上霜。\n舉頭望明月，低頭思故鄉。\n"
) * 20


@pytest.fixture(scope="module")
def tok() -> bpe.BPE:
    return bpe.train_bpe(TEXT, 320)


def test_vocabulary_holds_the_bytes_and_the_merges(tok):
    assert tok.vocab_size == len(tok) == 320 and tok.n_merges == 64
    assert sorted(tok.token_bytes(i) for i in range(256)) == [bytes([b]) for b in range(256)]
    assert all(len(tok.token_bytes(i)) >= 2 for i in range(256, 320))  # merges are longer


@pytest.mark.parametrize(
    "s",
    [TEXT, "", "Hello  world\n\n\t x", "人工智能 🙂 naïve café", "\x00\x7f\u2028 ∑", "a" * 1000],
)
def test_round_trip_of_any_string(tok, s):
    ids = tok.encode(s)
    assert ids.dtype == np.int64 and ids.ndim == 1
    assert tok.decode(ids) == s


def test_merges_make_sequences_shorter(tok):
    assert len(tok.encode("To be, or not to be")) < len(b"To be, or not to be")
    # before any merge: one token per byte, 3 bytes per Chinese character
    only_bytes = bpe.train_bpe(TEXT, 256)
    assert only_bytes.n_merges == 0
    assert len(only_bytes.encode("床前明月光")) == 15
    assert only_bytes.tokens_per_char("To be") == 1.0


def test_pieces_show_words_and_partial_characters(tok):
    assert tok.pieces("To be, or not")[:3] == ["To", " be", ","]
    assert bpe.train_bpe(TEXT, 256).pieces("床") == ["<e5>", "<ba>", "<8a>"]
    # with enough merges, the line (seen 20 times) becomes one token of 5 whole characters
    big = bpe.train_bpe(TEXT, 1000)
    assert big.pieces("疑是地上霜。") == ["疑是地上霜", "。"]
    assert big.vocab_size == 399  # this small text runs out of pairs seen twice or more


def test_training_is_deterministic(tok):
    again = bpe.train_bpe(TEXT, 320)
    assert [again.token_bytes(i) for i in range(320)] == [tok.token_bytes(i) for i in range(320)]
    assert np.array_equal(again.encode(TEXT), tok.encode(TEXT))


def test_tokens_per_char_falls_with_the_vocabulary():
    ratios = bpe.tokens_per_char(TEXT, [256, 300, 400])
    assert list(ratios) == [256, 300, 400]
    values = list(ratios.values())
    assert values[0] == pytest.approx(len(TEXT.encode()) / len(TEXT))
    assert values[0] > values[1] > values[2]
    held_out = bpe.tokens_per_char("The question of fortune", [256, 400], train_text=TEXT)
    assert held_out[400] < held_out[256] == 1.0


def test_save_and_load(tok, tmp_path):
    tok.save(tmp_path / "bpe.json")
    back = bpe.BPE.load(tmp_path / "bpe.json")
    assert back.vocab_size == tok.vocab_size
    assert np.array_equal(back.encode(TEXT), tok.encode(TEXT))
    (tmp_path / "other.json").write_text('{"model": {"type": "WordPiece"}}')
    with pytest.raises(ValueError, match="is not a BPE tokenizer file"):
        bpe.BPE.load(tmp_path / "other.json")


@pytest.mark.parametrize("content", [b"", b"\xff\xfe not utf-8", b'{"model": {"type": "BPE"}}'])
def test_a_damaged_file_is_named(tmp_path, content):
    """Empty, not UTF-8, or a BPE header tokenizers cannot build: our error, naming the file."""
    path = tmp_path / "bpe.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"bpe\.json is not a BPE tokenizer file"):
        bpe.BPE.load(path)


def test_bad_input_gets_a_clear_error(tok):
    with pytest.raises(ValueError, match=r"vocab_size=100 is smaller than the byte alphabet.*>= 256"):
        bpe.train_bpe(TEXT, 100)
    with pytest.raises(TypeError, match="vocab_size must be an int, got float"):
        bpe.train_bpe(TEXT, 300.0)
    with pytest.raises(ValueError, match="text is empty"):
        bpe.train_bpe("", 300)
    with pytest.raises(ValueError, match="text is empty"):
        bpe.train_bpe(["", ""], 300)
    with pytest.raises(TypeError, match=r"text must be a str \(or a list of str\), got bytes"):
        bpe.train_bpe(b"bytes", 300)
    with pytest.raises(TypeError, match="text must be a str, got list"):
        tok.encode(["a"])
    with pytest.raises(ValueError, match=r"token id 320 is outside \[0, 320\)"):
        tok.decode([1, 320])
    with pytest.raises(ValueError, match="non-empty list of ints"):
        bpe.tokens_per_char(TEXT, 300)
    with pytest.raises(ValueError, match="smaller than the byte alphabet"):
        bpe.tokens_per_char(TEXT, [512, 200])

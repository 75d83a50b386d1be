"""The character tokenizer: round trips, the Tiny Shakespeare vocabulary, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from bigmodel.text.tokenizer import CharTokenizer


def test_vocabulary_is_sorted_set_and_round_trips():
    tok = CharTokenizer.from_text("hello world")
    assert tok.chars == sorted(set("hello world"))
    ids = tok.encode("hello")
    assert ids.dtype == np.int64 and ids.shape == (5,)
    assert ids.tolist() == [tok.chars.index(c) for c in "hello"]
    assert tok.decode(ids) == "hello"
    assert tok.decode([]) == "" and tok.encode("").shape == (0,)


def test_tiny_shakespeare_has_65_characters(shared_data):
    from bigmodel.data import load_tiny_shakespeare

    text = load_tiny_shakespeare(shared_data)
    tok = CharTokenizer.from_text(text)
    assert tok.vocab_size == 65
    assert tok.chars[:3] == ["\n", " ", "!"]
    assert tok.decode(tok.encode(text[:1000])) == text[:1000]


def test_unknown_character_names_it_and_its_position():
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match=r"'é' at position 2 is not in the vocabulary"):
        tok.encode("abé")


def test_decode_rejects_ids_outside_the_vocabulary():
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match="token id 3 is outside"):
        tok.decode([0, 3])
    with pytest.raises(ValueError, match="token id -1"):
        tok.decode([-1])


def test_bad_vocabularies_are_rejected():
    with pytest.raises(ValueError, match="repeats"):
        CharTokenizer(["a", "a"])
    with pytest.raises(ValueError, match="one character"):
        CharTokenizer(["ab"])
    with pytest.raises(ValueError, match="empty"):
        CharTokenizer([])


def test_save_and_load(tmp_path):
    tok = CharTokenizer.from_text("To be, or not to be?\n")
    tok.save(tmp_path / "vocab.json")
    back = CharTokenizer.load(tmp_path / "vocab.json")
    assert back == tok and back.encode("be").tolist() == tok.encode("be").tolist()
    (tmp_path / "other.json").write_text('{"type": "bpe"}')
    with pytest.raises(ValueError, match="not a character-tokenizer"):
        CharTokenizer.load(tmp_path / "other.json")


def test_a_lone_surrogate_is_refused_and_a_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="lone surrogate"):
        CharTokenizer.from_text("ab\ud800")
    path = tmp_path / "vocab.json"
    good = CharTokenizer.from_text("abc")
    good.save(path)
    before = path.read_bytes()

    # a save that fails half-way (here: the JSON step) leaves the earlier file as it was
    import json

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(json, "dumps", broken)
    with pytest.raises(OSError, match="disk full"):
        CharTokenizer.from_text("xyz").save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["vocab.json"]


def test_a_file_that_is_not_a_vocabulary_is_named(tmp_path):
    for text in ("", "[1, 2]", "not json"):
        (tmp_path / "v.json").write_text(text)
        with pytest.raises(ValueError, match=r"v\.json is not a character-tokenizer vocabulary"):
            CharTokenizer.load(tmp_path / "v.json")

"""A damaged, truncated or foreign checkpoint is refused with a message naming the file."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

from bigmodel import checkpoint as ckpt_io
from bigmodel import gpt as core

CFG = core.GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16)


@pytest.fixture
def ckpt(tmp_path):
    path = tmp_path / "m.safetensors"
    ckpt_io.save_checkpoint(path, core.init_params(CFG, 0), CFG)
    return path


def test_round_trip_records_and_checks_the_tensor_checksum(ckpt):
    config, params, meta = ckpt_io.load_checkpoint(ckpt)
    assert config == CFG and meta["format"] == "bigmodel.gpt/2"
    assert meta["tensors_sha256"] == ckpt_io.tensors_sha256(params)
    assert meta["sha256"] == ckpt_io.checkpoint_sha256(params, meta)


def rewrite(path, **changes):
    """Write ``path`` again with the same tensors and some metadata entries changed."""
    from safetensors import safe_open
    from safetensors.numpy import save_file

    with safe_open(str(path), framework="numpy") as f:
        meta = f.metadata()
        arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    save_file(arrays, str(path), metadata={**meta, **changes})


def test_an_edited_config_is_refused(ckpt):
    """Issue #22: "n_head": 2 made 1 loaded as n_head=1 when the checksum covered tensors only."""
    rewrite(ckpt)  # the null case: the same metadata written again loads
    assert ckpt_io.load_checkpoint(ckpt)[0] == CFG
    edited = CFG.to_json().replace('"n_head": 2', '"n_head": 1')
    assert edited != CFG.to_json()
    rewrite(ckpt, config=edited)
    with pytest.raises(ValueError, match=rf"{ckpt.name}: the tensors are intact but the metadata "
                                         "differs .* the config or another entry was edited"):
        ckpt_io.load_checkpoint(ckpt)


def test_an_edited_entry_of_ones_own_is_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    ckpt_io.save_checkpoint(path, core.init_params(CFG, 0), CFG, {"corpus": "shakespeare"})
    assert ckpt_io.load_checkpoint(path)[2]["corpus"] == "shakespeare"
    rewrite(path, corpus="tang")
    with pytest.raises(ValueError, match="metadata differs"):
        ckpt_io.load_checkpoint(path)


def format_1(path, params):
    """A checkpoint as format 1 wrote it: the checksum covers the tensors only."""
    from safetensors.numpy import save_file

    save_file(params, str(path), metadata={"format": "bigmodel.gpt/1", "config": CFG.to_json(),
                                           "sha256": ckpt_io.tensors_sha256(params), "corpus": "x"})


def test_a_format_1_file_loads_with_a_warning_and_upgrades_once(tmp_path):
    path, params = tmp_path / "old.safetensors", core.init_params(CFG, 0)
    format_1(path, params)
    with pytest.warns(UserWarning, match=r"format-1 checkpoint: .*upgrade_checkpoint"):
        config, loaded, _ = ckpt_io.load_checkpoint(path)
    assert config == CFG and all(np.array_equal(loaded[k], params[k]) for k in params)
    assert ckpt_io.upgrade_checkpoint(path) is True
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # format 2 loads without a warning
        config, again, meta = ckpt_io.load_checkpoint(path)
    assert meta["format"] == "bigmodel.gpt/2" and meta["corpus"] == "x" and config == CFG
    assert all(np.array_equal(again[k], params[k]) for k in params)
    assert ckpt_io.upgrade_checkpoint(path) is False  # already format 2: untouched


def test_a_damaged_format_1_file_is_not_upgraded(tmp_path):
    path = tmp_path / "old.safetensors"
    format_1(path, core.init_params(CFG, 0))
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="corrupted"):
        ckpt_io.upgrade_checkpoint(path)
    assert path.read_bytes() == bytes(data)  # left as it was, not made to look sound


def test_metadata_values_must_be_text(tmp_path):
    with pytest.raises(ValueError, match=r"metadata values must be strings .* \['steps'\]"):
        ckpt_io.save_checkpoint(tmp_path / "m.safetensors", core.init_params(CFG, 0), CFG,
                                {"steps": 3})
    assert not (tmp_path / "m.safetensors").exists()


def test_a_flipped_byte_in_the_payload_is_caught(ckpt):
    data = bytearray(ckpt.read_bytes())
    data[-5] ^= 0x01  # inside the last tensor's float32 bytes
    ckpt.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=rf"{ckpt.name}: the tensors' SHA-256 .* corrupted"):
        ckpt_io.load_checkpoint(ckpt)


@pytest.mark.parametrize("keep", [0, 7, 100, -10])
def test_truncated_files_name_the_path(ckpt, keep):
    data = ckpt.read_bytes()
    ckpt.write_bytes(data[:keep] if keep >= 0 else data[:keep])
    with pytest.raises(ValueError, match=str(ckpt)):
        ckpt_io.load_checkpoint(ckpt)


def test_a_pickle_is_refused_without_being_loaded(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(pickle.dumps({"w": np.zeros(3)}))
    with pytest.raises(ValueError, match=r"model.pt looks like a pickle .* never loads pickles"):
        ckpt_io.load_checkpoint(path)
    zipped = tmp_path / "torch_save.pt"
    zipped.write_bytes(b"PK\x03\x04" + bytes(100))  # torch.save's zip container
    with pytest.raises(ValueError, match="looks like a pickle"):
        ckpt_io.load_checkpoint(zipped)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no checkpoint at .*nothing.safetensors"):
        ckpt_io.load_checkpoint(tmp_path / "nothing.safetensors")


def test_a_checkpoint_without_checksum_is_refused(tmp_path):
    from safetensors.numpy import save_file

    params = core.init_params(CFG, 0)
    meta = {"format": ckpt_io.CHECKPOINT_FORMAT, "config": CFG.to_json()}
    save_file(params, str(tmp_path / "old.safetensors"), metadata=meta)
    with pytest.raises(ValueError, match="no tensor checksum"):
        ckpt_io.load_checkpoint(tmp_path / "old.safetensors")


def test_reserved_metadata_keys_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"\['sha256'\] are reserved"):
        ckpt_io.save_checkpoint(tmp_path / "m.safetensors", core.init_params(CFG, 0), CFG, {"sha256": "x"})

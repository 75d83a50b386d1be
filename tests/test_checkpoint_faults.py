"""A damaged, truncated or foreign checkpoint is refused with a message naming the file."""

from __future__ import annotations

import pickle

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
    assert config == CFG
    assert meta["sha256"] == ckpt_io.tensors_sha256(params)


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

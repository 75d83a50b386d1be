"""``python -m bigmodel.poet_classifier`` end to end on a nano model, and its flags."""

from __future__ import annotations

import json

import pytest

from bigmodel import poet_classifier


def test_the_command_writes_every_run(shared_data, nano_checkpoint, tmp_path, torch_one_thread):
    argv = ["--seeds", "0", "--methods", "scratch,full,lora-2", "--n-test", "20",
            "--length", "8", "--epochs", "2", "--batch", "64",
            "--checkpoint", str(nano_checkpoint), "--data-dir", str(shared_data),
            "--out", str(tmp_path)]
    assert poet_classifier.main(argv) == 0
    rec = json.loads((tmp_path / "poet_classifier.json").read_text("utf-8"))
    assert rec["command"] == "python -m bigmodel.poet_classifier " + " ".join(argv)
    assert rec["poets"] == ["李白", "杜甫"] and rec["test_poems"] == 40
    assert rec["test_label_share"] == 0.5 and rec["fit_poems"] >= 4 * rec["val_poems"] - 4
    assert [r["method"] for r in rec["runs"]] == ["scratch", "full", "lora-2"]
    by = {r["method"]: r for r in rec["runs"]}
    assert by["lora-2"]["trainable"] < by["full"]["trainable"] == by["scratch"]["trainable"]
    for r in rec["runs"]:
        assert 0 <= r["test_accuracy"] <= 1 and len(r["val_accuracy"]) == 2
    with pytest.raises(SystemExit):  # an earlier record is kept
        poet_classifier.main(argv)
    # two worker processes give each run's result, in the same order
    assert poet_classifier.main([*argv[:-1], str(tmp_path / "jobs"), "--jobs", "2"]) == 0
    par = json.loads((tmp_path / "jobs" / "poet_classifier.json").read_text("utf-8"))
    for a, b in zip(rec["runs"], par["runs"], strict=True):
        assert {k: v for k, v in a.items() if k != "seconds"} == {
            k: v for k, v in b.items() if k != "seconds"}


@pytest.mark.parametrize("flags, message", [
    (["--methods", "full,lora-0"], "method 'lora-0' is unknown"),
    (["--seeds", "0,x"], "'0,x' is not a comma-separated list of integers"),
    (["--epochs", "0"], "--epochs: must be an integer >= 1"),
    (["--length", "500"], "longer than the model's block_size"),
    (["--n-test", "5000"], "--n-test: n_test=5000 leaves"),
])
def test_bad_flags_are_named(flags, message, shared_data, tmp_path, capsys):
    with pytest.raises(SystemExit) as err:
        poet_classifier.main([*flags, "--data-dir", str(shared_data), "--out", str(tmp_path / "o")])
    assert err.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing written


def test_records_are_read_and_bad_ones_named(tmp_path):
    rec = poet_classifier.load_record()  # the shipped one
    assert {r["method"] for r in rec["runs"]} == {"scratch", "full", "lora-4"}
    with pytest.raises(FileNotFoundError, match="python -m bigmodel.poet_classifier"):
        poet_classifier.load_record(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ValueError, match="is not JSON"):
        poet_classifier.load_record(bad)
    bad.write_text(json.dumps({**rec, "runs": [{"seed": 0}]}))
    with pytest.raises(ValueError, match="run 0 has no 'method'"):
        poet_classifier.load_record(bad)

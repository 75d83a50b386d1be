"""Every command line checks every numeric flag as it is parsed, in one line, before work.

The commands' parsers are enumerated below; each ``int`` or ``float`` flag must have a
checking type from :mod:`bigmodel.flags` (a bare ``type=int`` accepts ``--batch 0`` and
``--steps -1``), and every value past its bounds must be refused with exit status 2 and a
line naming the flag. The framework-neutral commands are also run in a child process: a
bad flag must cost no framework import and no file.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from bigmodel import bench, encoder_vs_gpt, finetune, poet_classifier, train
from bigmodel.distributed import memory, worker
from bigmodel.flags import integer_flag, refused_values
from conftest import ROOT


def _subcommand(p: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


#: ``command -> (parser, the arguments it requires)``
COMMANDS = {
    "bigmodel.train": (train._parser(), ["--corpus", "shakespeare", "--out", "unused"]),
    "bigmodel.bench gpt": (_subcommand(bench.parser(), "gpt"), []),
    "bigmodel.finetune": (finetune._parser(), ["--out", "unused"]),
    "bigmodel.poet_classifier": (poet_classifier._parser(), ["--out", "unused"]),
    "bigmodel.encoder_vs_gpt": (encoder_vs_gpt._parser(), ["--out", "unused"]),
    "bigmodel.*.efficient": (memory.peak_memory_parser("efficient"), ["--config", "{}"]),
    "bigmodel.*.distributed": (worker.worker_parser("worker"), ["--data", "d.npz", "--out", "o"]),
}


def unchecked_flags(p: argparse.ArgumentParser) -> list[str]:
    return [a.option_strings[0] for a in p._actions if a.type in (int, float)]


def test_every_numeric_flag_is_checked_by_its_type():
    bad = {cmd: flags for cmd, (p, _) in COMMANDS.items() if (flags := unchecked_flags(p))}
    assert not bad, f"flags parsed with a bare int or float (use bigmodel.flags): {bad}"


def test_the_enumeration_finds_an_unchecked_flag():
    """Null case: a bare ``type=int`` is found, a checking type is not."""
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int)
    p.add_argument("--m", type=integer_flag(low=1))
    assert unchecked_flags(p) == ["--n"]


def cases() -> list[tuple[str, str, str]]:
    out = []
    for cmd, (p, _) in COMMANDS.items():
        for a in p._actions:
            if hasattr(a.type, "kind"):
                out += [(cmd, a.option_strings[0], v) for v in refused_values(a.type)]
    return out


def test_there_are_cases_for_every_command():
    assert {c for c, _, _ in cases()} == set(COMMANDS)
    assert refused_values(integer_flag(low=1)) == ["2.5", "0"]


@pytest.mark.parametrize(("cmd", "flag", "bad"), cases())
def test_a_bad_flag_is_refused_in_one_line(cmd, flag, bad, capsys):
    p, required = COMMANDS[cmd]
    action = next(a for a in p._actions if flag in a.option_strings)
    with pytest.raises(SystemExit) as err:
        p.parse_args([*required, flag, *[bad] * (action.nargs if isinstance(action.nargs, int) else 1)])
    assert err.value.code == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"argument {flag}: must be" in message, message


# The child process reports whether PyTorch or TensorFlow was imported by the time the
# command exited, and with which status.
HARNESS = """
import json, runpy, sys
sys.argv = [sys.argv[1], *sys.argv[2:]]
try:
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    code = 0
except SystemExit as e:
    code = e.code
heavy = sorted(m for m in ("torch", "tensorflow") if m in sys.modules)
print(json.dumps({"code": code, "heavy": heavy}), file=sys.__stdout__)
"""


@pytest.mark.parametrize(("module", "args"), [
    ("bigmodel.train", ["--corpus", "shakespeare", "--steps", "0"]),
    ("bigmodel.train", ["--corpus", "shakespeare", "--n-embd", "30", "--n-head", "4"]),
    ("bigmodel.bench", ["gpt", "--batch-size", "0"]),
])
def test_a_bad_flag_costs_no_import_and_no_file(module, args, tmp_path):
    out = tmp_path / "out"
    extra = ["--out", str(out)] if module == "bigmodel.train" else ["--out", str(out / "r.json")]
    run = subprocess.run([sys.executable, "-c", HARNESS, module, *args, *extra],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report == {"code": 2, "heavy": []}, (report, run.stderr)
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1].startswith(f"python -m {module}"), run.stderr
    assert not out.exists()

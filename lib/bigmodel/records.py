"""Reading the records of the experiment commands (:mod:`bigmodel.finetune`,
:mod:`bigmodel.poet_classifier`, :mod:`bigmodel.encoder_vs_gpt`): one JSON file per run of
a command, the book's copies shipped in the package's ``results/`` folder."""

from __future__ import annotations

import argparse
import importlib.resources
import json
from collections.abc import Iterable
from pathlib import Path

from .flags import integer_flag

__all__ = ["add_run_flags", "out_path", "read_record", "shipped_record"]


def add_run_flags(parser: argparse.ArgumentParser, record: str) -> None:
    """The flags every experiment command shares: ``--threads``, ``--jobs``, ``--out`` and
    ``--overwrite`` (of the record file named ``record``)."""
    positive = integer_flag(low=1)
    parser.add_argument("--threads", type=positive, default=1, help="PyTorch threads per run")
    parser.add_argument("--jobs", type=positive, default=1, help="runs at once, each in its "
                        "own process (a core each, with --threads 1)")
    parser.add_argument("--out", required=True, help="output folder (created if missing)")
    parser.add_argument("--overwrite", action="store_true", help=f"replace an earlier {record}")


def out_path(parser: argparse.ArgumentParser, args: argparse.Namespace, record: str) -> Path:
    """Where the command writes ``record``: ``--out``/``record``, or a one-line error (exit
    2) when ``--out`` is a file or already holds a record and ``--overwrite`` is not given."""
    path = Path(args.out) / record
    if Path(args.out).exists() and not Path(args.out).is_dir():
        parser.error(f"--out {args.out} is a file; name a folder")
    if path.exists() and not args.overwrite:
        parser.error(f"--out {args.out} holds an earlier {record}; name another folder, or "
                     "add --overwrite to replace it")
    return path


def shipped_record(name: str) -> Path:
    """The path of the record ``name`` shipped in the package's ``results/`` folder."""
    return Path(str(importlib.resources.files("bigmodel") / "results" / name))


def read_record(path: str | Path, command: str, keys: Iterable[str],
                run_keys: Iterable[str]) -> dict:
    """The record at ``path`` written by ``python -m bigmodel.<command>``, checked for the
    top-level ``keys`` and, in each of its ``runs``, the ``run_keys`` the book reads.

    Raises:
        FileNotFoundError: no file at ``path`` (the message says how to make one).
        ValueError: the file is not JSON, or lacks a key (the message names the file, the
            key and, for a run, its index).
    """
    path = Path(path)
    made_by = f"was it written by bigmodel.{command}?"
    if not path.is_file():
        raise FileNotFoundError(f"no record at {path}; make one with "
                                f"python -m bigmodel.{command} --out FOLDER")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not JSON ({err}); {made_by}") from None
    if not isinstance(record, dict):
        raise ValueError(f"{path} holds a JSON {type(record).__name__}, not a record; {made_by}")
    for key in keys:
        if key not in record:
            raise ValueError(f"{path} has no {key!r}; {made_by}")
    for i, run in enumerate(record["runs"]):
        missing = [k for k in run_keys if k not in run]
        if missing:
            raise ValueError(f"{path}: run {i} has no {missing[0]!r}; {made_by}")
    return record

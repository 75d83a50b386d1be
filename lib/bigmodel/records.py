"""Reading the records of the experiment commands (:mod:`bigmodel.finetune`,
:mod:`bigmodel.poet_classifier`, :mod:`bigmodel.encoder_vs_gpt`): one JSON file per run of
a command, the book's copies shipped in the package's ``results/`` folder."""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Iterable
from pathlib import Path

__all__ = ["read_record", "shipped_record"]


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

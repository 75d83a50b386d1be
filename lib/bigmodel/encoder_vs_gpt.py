"""An encoder next to a GPT, measured: ``python -m bigmodel.encoder_vs_gpt``.

Per seed, a GPT (:class:`bigmodel.torch.gpt.GPT`) and a BERT-style encoder
(:class:`bigmodel.torch.encoder.Encoder`) of the same config are trained on the same Tiny
Shakespeare windows in the same order, for the same steps and schedule: the same data,
size and budget; only the attention mask and the objective differ. Text split: the first
90 % trains, the next 5 % gives the validation losses during training, the last 5 % the
test windows, scored once after training (:mod:`bigmodel.encoder`):

- ``fill``: the middle character of ``--n-test`` windows hidden; the encoder fills it in
  one pass, the GPT predicts it from the left side (``fill_left``) and, by scoring every
  candidate with the rest of the window, from both sides (``fill_both_sides``);
- ``next``: the character after ``--n-test`` contexts of ``block_size - 1`` characters.

``<out>/encoder_vs_gpt.json`` records the command, date, host, versions and per run the
losses, accuracies and seconds. Only :func:`main` imports PyTorch; nothing is overwritten
without ``--overwrite``.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from pathlib import Path

import numpy as np

from .bench import cpu_name
from .finetune import run_grid
from .flags import integer_flag, integer_list_flag, number_flag
from .records import add_run_flags, out_path, read_record, shipped_record

__all__ = ["MODELS", "load_record", "main"]

RECORD = "encoder_vs_gpt.json"
#: The record the book reads, shipped in the package's ``results/`` folder under this name.
SHIPPED_RECORD = "encoder-vs-gpt-shakespeare.json"
#: The two models each seed trains.
MODELS = ("gpt", "encoder")
#: The scores of each run, each a :class:`bigmodel.encoder.Score` as a dictionary.
TASKS = ("fill", "fill_left", "fill_both_sides", "next")


def load_record(path: str | Path | None = None) -> dict:
    """An ``encoder_vs_gpt.json`` as a dictionary; by default the one shipped with the
    package (``results/encoder-vs-gpt-shakespeare.json``).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not JSON, or lacks a key the book reads (named).
    """
    return read_record(shipped_record(SHIPPED_RECORD) if path is None else path,
                       "encoder_vs_gpt", ("command", "config", "settings", "n_test", "runs"),
                       ("seed", "model", "val_loss", "seconds"))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bigmodel.encoder_vs_gpt",
                                description=__doc__.split("\n\n")[0])
    positive = integer_flag(low=1)
    p.add_argument("--seeds", type=integer_list_flag, default=[0, 1, 2], help="training seeds")
    p.add_argument("--steps", type=positive, default=5000, help="optimizer steps per model")
    p.add_argument("--batch", type=positive, default=32)
    p.add_argument("--block-size", type=integer_flag(low=4), default=32)
    p.add_argument("--n-layer", type=positive, default=2)
    p.add_argument("--n-embd", type=positive, default=64)
    p.add_argument("--lr", type=number_flag(0, low_open=True), default=3e-3)
    p.add_argument("--n-test", type=positive, default=1000, help="test windows per task")
    p.add_argument("--data-dir", default=None, help="where to look for Tiny Shakespeare first")
    add_run_flags(p, RECORD)
    return p


def splits(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train (first 90 %), validation (next 5 %) and test (last 5 %) token ids."""
    a, b = int(0.9 * len(ids)), int(0.95 * len(ids))
    return ids[:a], ids[a:b], ids[b:]


def _run_one(task: dict) -> dict:
    """One run: train the model of the task, then score the test windows once."""
    import torch

    from . import encoder
    from .gpt_train import TrainConfig
    from .torch.encoder import Encoder
    from .torch.gpt import GPT
    from .torch.gpt_train import train

    torch.set_num_threads(task["threads"])
    seed, config, args = task["seed"], task["config"], task["args"]
    model = (GPT if task["model"] == "gpt" else Encoder)(config, seed=seed)
    cfg = TrainConfig(max_steps=args["steps"], batch_size=args["batch"], lr=args["lr"],
                      min_lr=args["lr"] / 10, warmup_steps=min(100, args["steps"]),
                      eval_interval=max(1, args["steps"] // 10), eval_iters=10, seed=seed)
    t0 = time.perf_counter()
    hist = train(model, task["train"], task["val"], cfg, show_progress=False)
    seconds = time.perf_counter() - t0
    rng = np.random.default_rng(12345)  # the same test windows for every run
    windows, answers, middle = encoder.fill_windows(task["test"], args["n_test"], config, rng)
    contexts, following = encoder.next_char_windows(task["test"], args["n_test"], config, rng)
    scores = {"next": encoder.score_next(model, contexts, following)}
    if task["model"] == "encoder":
        scores["fill"] = encoder.score_fill_encoder(model, windows, answers, middle)
    else:
        scores["fill_left"] = encoder.score_fill_left(model, windows, answers, middle)
        scores["fill_both_sides"] = encoder.score_fill_both_sides(model, windows, answers,
                                                                  middle)
    return {"seed": seed, "model": task["model"], "steps": hist.step, "val_loss": hist.val_loss,
            "train_loss": hist.loss, "seconds": round(seconds, 2),
            **{k: {"loss": v.loss, "accuracy": v.accuracy, "n": v.n} for k, v in scores.items()}}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    record_path = out_path(parser, args, RECORD)
    if args.n_embd % 4:
        parser.error(f"--n-embd {args.n_embd} must be divisible by the 4 heads")
    import torch

    from .data import load_tiny_shakespeare
    from .gpt import GPTConfig
    from .text.tokenizer import CharTokenizer

    started = datetime.datetime.now(datetime.timezone.utc)
    text = load_tiny_shakespeare(args.data_dir)
    tok = CharTokenizer.from_text(text)
    train_ids, val_ids, test_ids = splits(tok.encode(text))
    config = GPTConfig(vocab_size=tok.vocab_size + 1, block_size=args.block_size,
                       n_layer=args.n_layer, n_head=4, n_embd=args.n_embd)
    settings = {"steps": args.steps, "batch": args.batch, "lr": args.lr, "n_test": args.n_test}
    tasks = [{"seed": seed, "model": model, "config": config, "args": settings,
              "train": train_ids, "val": val_ids, "test": test_ids, "threads": args.threads}
             for seed in args.seeds for model in MODELS]
    record = {
        "command": "python -m bigmodel.encoder_vs_gpt " + " ".join(
            argv if argv is not None else sys.argv[1:]),
        "started_utc": started.isoformat(timespec="seconds"), "host_cpu": cpu_name(),
        "threads": args.threads, "jobs": args.jobs, "python": platform.python_version(),
        "torch": torch.__version__, "numpy": np.__version__,
        "config": {k: getattr(config, k) for k in ("vocab_size", "block_size", "n_layer",
                                                   "n_head", "n_embd")},
        "settings": settings, "n_test": args.n_test,
        "tokens": {"train": len(train_ids), "val": len(val_ids), "test": len(test_ids)},
        "runs": [],
    }
    print(f"{len(tasks)} runs of {args.steps} steps; {len(train_ids):,} training characters",
          flush=True)
    run_grid(_run_one, tasks, args.jobs, record, record_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

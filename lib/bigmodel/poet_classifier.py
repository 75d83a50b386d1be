"""Fine-tuning for a label, measured: ``python -m bigmodel.poet_classifier``.

Which of two poets (:data:`bigmodel.text.poet_pair.CLASSIFY_POETS`) wrote a poem, told from
its first ``--length`` characters (:func:`bigmodel.classify.opening_ids`). The same GPT
classifier (:class:`bigmodel.torch.classify.GPTClassifier`) is trained on the same labelled
poems three ways per seed: ``scratch`` (the network freshly initialised), ``full`` (the
pretrained ``tang-without-bai-juyi`` model, every weight trained) and ``lora-R`` (that model
frozen, LoRA adapters of rank ``R`` and the head trained). The pretrained model has read
both poets' poems, never with their names.

Every run trains ``--epochs`` epochs with Adam on 80 % of the training poems (a fixed
shuffle) and records the accuracy on the other 20 % after each epoch; the test poems
(:func:`bigmodel.text.poet_pair.two_poets`, balanced) are scored once, after the last epoch,
so no choice sees them. ``<out>/poet_classifier.json`` records the command, date, host,
versions and per run the test and validation accuracies, the seconds and the trainable
parameters. Only :func:`main` imports PyTorch; nothing is overwritten without
``--overwrite``.
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
from .finetune import method_list, parse_method, pool_parts, run_grid
from .flags import integer_flag, integer_list_flag, number_flag
from .records import add_run_flags, out_path, read_record, shipped_record

__all__ = ["load_record", "main"]

RECORD = "poet_classifier.json"
#: The record the book reads, a ``poet_classifier.json`` of this command shipped in the
#: package's ``results/`` folder under this name.
SHIPPED_RECORD = "poet-classifier-li-bai-du-fu.json"


def load_record(path: str | Path | None = None) -> dict:
    """A ``poet_classifier.json`` as a dictionary; by default the one shipped with the
    package (``results/poet-classifier-li-bai-du-fu.json``).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not JSON, or lacks a key the book reads (named).
    """
    return read_record(shipped_record(SHIPPED_RECORD) if path is None else path,
                       "poet_classifier",
                       ("command", "fit_poems", "test_poems", "test_label_share", "runs"),
                       ("seed", "method", "test_accuracy", "trainable"))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bigmodel.poet_classifier",
                                description=__doc__.split("\n\n")[0])
    positive = integer_flag(low=1)
    lr = number_flag(0, low_open=True)
    p.add_argument("--methods", type=method_list, default=["scratch", "full", "lora-4"],
                   help="comma-separated: scratch, full, lora-R")
    p.add_argument("--seeds", type=integer_list_flag, default=[0, 1, 2], help="training seeds")
    p.add_argument("--n-test", type=positive, default=200, help="test poems per poet")
    p.add_argument("--length", type=positive, default=24, help="characters read per poem")
    p.add_argument("--epochs", type=positive, default=4)
    p.add_argument("--batch", type=positive, default=32)
    p.add_argument("--lr-scratch", type=lr, default=1e-3)
    p.add_argument("--lr-full", type=lr, default=3e-4)
    p.add_argument("--lr-lora", type=lr, default=3e-3)
    p.add_argument("--checkpoint", default=None,
                   help="the pretrained model (default: the shipped tang-without-bai-juyi)")
    p.add_argument("--data-dir", default=None, help="where to look for the Tang poems first")
    add_run_flags(p, RECORD)
    return p


def _run_one(task: dict) -> dict:
    """One run: build the classifier for the method, train, score the test poems once."""
    import torch

    from .lora import LoRAConfig
    from .torch import loop
    from .torch.classify import GPTClassifier
    from .torch.gpt import GPT
    from .torch.lora import add_lora, trainable_count

    torch.set_num_threads(task["threads"])
    args, seed = task["args"], task["seed"]
    kind, rank = parse_method(task["method"])
    if kind == "scratch":
        gpt, lr = GPT(task["config"], seed=seed), args["lr_scratch"]
    else:
        gpt, lr = GPT.from_checkpoint(task["checkpoint"]), args["lr_full"]
        if kind == "lora":
            gpt, lr = add_lora(gpt, LoRAConfig(rank=rank), seed=seed), args["lr_lora"]
    model = GPTClassifier(gpt, 2, args["length"], seed=seed)
    t0 = time.perf_counter()
    hist = loop.fit(model, task["x_fit"], task["y_fit"], epochs=args["epochs"],
                    batch_size=args["batch"], lr=lr, seed=seed,
                    validation=(task["x_val"], task["y_val"]), show_progress=False)
    seconds = time.perf_counter() - t0
    _, test_accuracy = loop.evaluate(model, task["x_test"], task["y_test"])
    return {"seed": seed, "method": task["method"], "lr": lr, "test_accuracy": test_accuracy,
            "val_accuracy": hist.val_accuracy, "train_loss": hist.loss,
            "seconds": round(seconds, 2), "trainable": trainable_count(model)}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    record_path = out_path(parser, args, RECORD)
    import torch

    from . import data, train
    from .classify import opening_ids
    from .text.poet_pair import two_poets
    from .torch.gpt import GPT

    ckpt = Path(args.checkpoint) if args.checkpoint else train.checkpoint_path("tang-without-bai-juyi")
    tok = train.checkpoint_tokenizer(ckpt)
    config = GPT.from_checkpoint(ckpt).config
    if args.length > config.block_size:
        parser.error(f"--length {args.length} is longer than the model's block_size "
                     f"{config.block_size}")
    started = datetime.datetime.now(datetime.timezone.utc)
    poems = data.load_tang_poems(args.data_dir)
    try:
        pair = two_poets(poems.author, poems.paragraphs, n_test=args.n_test)
    except ValueError as err:
        parser.error(f"--n-test: {err}")
    x, kept = opening_ids(pair.train, tok, args.length)
    y = pair.train_labels[kept]
    x_test, kept_test = opening_ids(pair.test, tok, args.length)
    y_test = pair.test_labels[kept_test]
    order = np.random.default_rng(0).permutation(len(x))  # fixed: the same split every run
    fit, val = pool_parts(list(order))
    settings = {k: getattr(args, k) for k in ("lr_scratch", "lr_full", "lr_lora", "epochs",
                                              "batch", "length")}
    tasks = [{"seed": seed, "method": method, "x_fit": x[fit], "y_fit": y[fit],
              "x_val": x[val], "y_val": y[val], "x_test": x_test, "y_test": y_test,
              "config": config, "checkpoint": str(ckpt), "args": settings,
              "threads": args.threads}
             for seed in args.seeds for method in args.methods]
    record = {
        "command": "python -m bigmodel.poet_classifier " + " ".join(
            argv if argv is not None else sys.argv[1:]),
        "started_utc": started.isoformat(timespec="seconds"), "host_cpu": cpu_name(),
        "threads": args.threads, "jobs": args.jobs, "python": platform.python_version(),
        "torch": torch.__version__, "numpy": np.__version__, "checkpoint": ckpt.name,
        "poets": list(pair.poets), "removed_shared": pair.removed_shared,
        "fit_poems": len(fit), "val_poems": len(val), "test_poems": len(x_test),
        "test_label_share": float(y_test.mean()), "fit_label_share": float(y[fit].mean()),
        "runs": [],
    }
    print(f"{len(fit)} training, {len(val)} validation and {len(x_test)} test poems "
          f"of {pair.poets[0]} and {pair.poets[1]}", flush=True)
    run_grid(_run_one, tasks, args.jobs, record, record_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

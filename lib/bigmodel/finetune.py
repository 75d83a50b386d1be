"""Pretraining, then fine-tuning, measured: ``python -m bigmodel.finetune``.

The source claims (§9.5) that a pretrained model needs less data and less compute. This
command measures that on one poet: the model pretrained on every Tang poet but
:data:`bigmodel.text.poet_split.FINETUNE_POET` (the shipped ``tang-without-bai-juyi``
checkpoint, :mod:`bigmodel.train`) is adapted to that poet's poems, and every run is scored
on the same 500 held-out poems of theirs (:func:`bigmodel.text.poet_split.split_poet`).

For each pool size ``n`` (the first ``n`` poems of the split's pool order), each seed and
each method, one run:

- ``scratch``: the same network, freshly initialised with the seed;
- ``full``: every weight of the pretrained model trained;
- ``lora-R``: the pretrained model frozen, LoRA adapters of rank ``R`` trained
  (:func:`bigmodel.torch.lora.add_lora`, adapters drawn with the seed).

A run trains on the pool's first 80 % of poems and stops early on the other 20 %
(:func:`pool_parts`): it evaluates before the first step and every ``--eval-interval``
steps, keeps the weights of the best validation loss (the starting weights, step 0, when
no step beats them), and stops after ``--patience`` evaluations without a better one or at
``--max-steps``. The test poems are scored once, with the kept weights, over every
non-overlapping window of the test text (:func:`windows`), so no choice ever sees them.
``--jobs N`` makes N runs at once, each in its own process; each run's result is the same
as with one job.

``<out>/finetune.json`` records the command, date, host, versions, the pretrained and the
untrained model's test loss, and per run: the test loss, the step kept, the steps run, the
wall time, the trainable parameters and the optimizer's state in bytes. Only :func:`main`
imports PyTorch, after every flag has been checked; nothing is overwritten without
``--overwrite``, and the record is written atomically once every run is done.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .bench import cpu_name
from .files import atomic_write_text
from .flags import integer_flag, integer_list_flag, number_flag
from .gpt_train import TrainConfig
from .inputs import number, positive_int
from .records import add_run_flags, out_path, read_record, shipped_record

__all__ = ["RunSummary", "load_record", "main", "method_list", "parse_method", "pool_parts",
           "run_grid", "summarize", "windows"]

RECORD = "finetune.json"
#: The record the book reads, a ``finetune.json`` of this command shipped in the package's
#: ``results/`` folder under this name (its ``command`` says how it was made).
SHIPPED_RECORD = "finetune-bai-juyi.json"
_RUN_KEYS = ("pool", "seed", "method", "test_loss", "step_kept", "steps_run", "seconds",
             "trainable", "adam_state_bytes")


def parse_method(name: str) -> tuple[str, int]:
    """``"scratch"`` -> ``("scratch", 0)``, ``"full"`` -> ``("full", 0)``, ``"lora-8"`` ->
    ``("lora", 8)``.

    Raises:
        ValueError: another name, or a LoRA rank that is not a positive integer.
    """
    if name in ("scratch", "full"):
        return name, 0
    if name.startswith("lora-") and name[5:].isdigit() and int(name[5:]) >= 1:
        return "lora", int(name[5:])
    raise ValueError(f"method {name!r} is unknown; use scratch, full or lora-R with a rank "
                     "R >= 1 (lora-8, say)")


def pool_parts(pool: list[str], val_share: float = 0.2) -> tuple[list[str], list[str]]:
    """``(train, val)``: a pool of poems cut into its first poems and its last
    ``ceil(val_share * len(pool))`` (at least one each), for early stopping."""
    val_share = number(val_share, "val_share", 0, 1, low_open=True, high_open=True)
    n = len(pool)
    if n < 2:
        raise ValueError(f"a pool of {n} poem(s) cannot give both training and validation "
                         "poems; use 2 or more")
    n_val = min(n - 1, max(1, int(np.ceil(val_share * n))))
    return pool[: n - n_val], pool[n - n_val:]


def windows(ids: np.ndarray, block_size: int, batch_size: int = 64) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every non-overlapping window of ``block_size + 1`` ids in ``ids``, as batches
    ``(x (B, T), y (B, T))`` of at most ``batch_size``: a loss over all of a text, the same
    on every call (no sampling)."""
    block_size = positive_int(block_size, "block_size")
    batch_size = positive_int(batch_size, "batch_size")
    ids = np.asarray(ids)
    n = (len(ids) - 1) // block_size
    if n < 1:
        raise ValueError(f"{len(ids)} ids hold no window of {block_size + 1}; use a longer text")
    starts = np.arange(n) * block_size
    x = ids[starts[:, None] + np.arange(block_size)]  # (n, T)
    y = ids[starts[:, None] + np.arange(block_size) + 1]
    return [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, n, batch_size)]


def load_record(path: str | Path | None = None) -> dict:
    """A ``finetune.json`` as a dictionary; by default the one shipped with the package
    (``results/finetune-bai-juyi.json``).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not JSON, or lacks a key the book reads (the message names
            the file and the key).
    """
    return read_record(shipped_record(SHIPPED_RECORD) if path is None else path, "finetune",
                       ("command", "pretrained_test_loss", "untrained_test_loss",
                        "test_tokens", "runs"), _RUN_KEYS)


@dataclass(frozen=True)
class RunSummary:
    """The runs of one pool size and method in a record, over its seeds.

    Attributes:
        pool: poems in the pool (training and validation together).
        method: ``scratch``, ``full`` or ``lora-R``.
        seeds: the training seeds, in the record's order.
        test_loss: ``(n_seeds,)`` nats per character on the held-out poems.
        gain: ``(n_seeds,)`` ``test_loss`` minus the pretrained model's (negative: better).
        steps_kept: the step whose weights were kept, per seed (0: the start).
        steps_run: the steps trained before stopping, per seed.
        seconds_per_step: wall seconds of training per step run (evaluations included),
            per seed.
        trainable: parameters the method trains.
        adam_state_bytes: bytes of Adam's two moments for them.
    """

    pool: int
    method: str
    seeds: tuple[int, ...]
    test_loss: np.ndarray
    gain: np.ndarray
    steps_kept: tuple[int, ...]
    steps_run: tuple[int, ...]
    seconds_per_step: np.ndarray
    trainable: int
    adam_state_bytes: int

    @property
    def mean(self) -> float:
        """Mean test loss over the seeds."""
        return float(self.test_loss.mean())

    @property
    def sd(self) -> float:
        """Sample standard deviation of the test loss over the seeds (``nan`` for one seed)."""
        return float(self.test_loss.std(ddof=1)) if self.test_loss.size > 1 else float("nan")


def summarize(record: dict) -> dict[tuple[int, str], RunSummary]:
    """``(pool, method)`` -> :class:`RunSummary` for every pool and method in ``record``
    (from :func:`load_record`), in the order the runs were made."""
    groups: dict[tuple[int, str], list[dict]] = {}
    for run in record["runs"]:
        groups.setdefault((run["pool"], run["method"]), []).append(run)
    base = float(record["pretrained_test_loss"])
    out = {}
    for (pool, method), runs in groups.items():
        loss = np.array([r["test_loss"] for r in runs], np.float64)
        out[pool, method] = RunSummary(
            pool=pool, method=method, seeds=tuple(r["seed"] for r in runs), test_loss=loss,
            gain=loss - base, steps_kept=tuple(r["step_kept"] for r in runs),
            steps_run=tuple(r["steps_run"] for r in runs),
            seconds_per_step=np.array([r["seconds"] / max(1, r["steps_run"]) for r in runs]),
            trainable=int(runs[0]["trainable"]), adam_state_bytes=int(runs[0]["adam_state_bytes"]))
    return out


def method_list(text: str) -> list[str]:
    """A flag of comma-separated method names (``scratch,full,lora-4``), each checked by
    :func:`parse_method`."""
    names = text.split(",")
    for name in names:
        try:
            parse_method(name)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
    return names


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bigmodel.finetune",
        description="Fine-tune the pretrained Tang model on pools of one poet's poems, "
        "against training from scratch and LoRA, and write the held-out losses.")
    positive = integer_flag(low=1)
    p.add_argument("--pools", type=integer_list_flag, default=[50, 200, 800],
                   help="pool sizes in poems, comma-separated")
    p.add_argument("--methods", type=method_list, default=["scratch", "full", "lora-4", "lora-16"],
                   help="comma-separated: scratch, full, lora-R")
    p.add_argument("--seeds", type=integer_list_flag, default=[0, 1, 2], help="training seeds")
    p.add_argument("--n-test", type=positive, default=500, help="the poet's held-out poems")
    p.add_argument("--max-steps", type=positive, default=400)
    p.add_argument("--eval-interval", type=positive, default=20)
    p.add_argument("--patience", type=positive, default=3,
                   help="evaluations without a better validation loss before stopping")
    p.add_argument("--batch", type=positive, default=16)
    lr = number_flag(0, low_open=True)
    p.add_argument("--lr-scratch", type=lr, default=3e-3)
    p.add_argument("--lr-full", type=lr, default=3e-4)
    p.add_argument("--lr-lora", type=lr, default=3e-3)
    p.add_argument("--checkpoint", default=None,
                   help="the pretrained model (default: the shipped tang-without-bai-juyi)")
    p.add_argument("--data-dir", default=None, help="where to look for the Tang poems first")
    add_run_flags(p, RECORD)
    return p


def run_grid(run_one: Callable[[dict], dict], tasks: list[dict], jobs: int, record: dict,
             path: Path) -> None:
    """Run ``run_one`` on every task, ``jobs`` at once (worker processes when above 1), print
    each result as a JSON line as it comes, in the tasks' order, and write ``record`` with
    the results as its ``runs`` to ``path`` atomically once all are done. The experiment
    commands' shared loop (this one's and :mod:`bigmodel.poet_classifier`'s)."""
    jobs = positive_int(jobs, "jobs")
    if jobs == 1:
        results = map(run_one, tasks)
    else:  # spawned workers, each with its task's threads; results come back in order
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))
        results = pool.map(run_one, tasks)
    for run in results:
        record["runs"].append(run)
        print(json.dumps(run), flush=True)
    if jobs > 1:
        pool.shutdown()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path}", flush=True)


def _run_one(task: dict) -> dict:
    """One run of the grid, from the task :func:`main` builds (in a worker process with
    ``--jobs`` above 1): train, keep the best validation weights, score the test windows."""
    import torch

    from .lora import LoRAConfig, adam_state_bytes
    from .torch.gpt import GPT
    from .torch.gpt_train import estimate_loss
    from .torch.gpt_train import train as train_gpt
    from .torch.lora import add_lora, trainable_count

    torch.set_num_threads(task["threads"])
    args, seed, ckpt = task["args"], task["seed"], task["checkpoint"]
    kind, rank = parse_method(task["method"])
    if kind == "scratch":
        model, lr = GPT(task["config"], seed=seed), args["lr_scratch"]
    else:
        model, lr = GPT.from_checkpoint(ckpt), args["lr_full"]
        if kind == "lora":
            model, lr = add_lora(model, LoRAConfig(rank=rank), seed=seed), args["lr_lora"]
    cfg = TrainConfig(max_steps=args["max_steps"], batch_size=args["batch"], lr=lr,
                      min_lr=lr / 10, warmup_steps=min(10, args["max_steps"]),
                      eval_interval=args["eval_interval"], eval_iters=1, seed=seed)
    val_batches = windows(task["val_ids"], model.config.block_size)
    with torch.no_grad():  # step 0 competes too: training must beat the start
        start = estimate_loss(model, val_batches)
    best = {"loss": start, "step": 0, "waited": 0,
            "state": {k: v.clone() for k, v in model.state_dict().items()}}

    def keep_best(step: int, _: float) -> bool:
        with torch.no_grad():
            loss = estimate_loss(model, val_batches)  # all of the validation poems
        if loss < best["loss"]:
            best.update(loss=loss, step=step, waited=0,
                        state={k: v.clone() for k, v in model.state_dict().items()})
        else:
            best["waited"] += 1
        return best["waited"] >= args["patience"]

    t0 = time.perf_counter()
    hist = train_gpt(model, task["fit_ids"], task["val_ids"], cfg, precision="float32",
                     show_progress=False, on_eval=keep_best)
    seconds = time.perf_counter() - t0
    model.load_state_dict(best["state"])
    trainable = trainable_count(model)
    with torch.no_grad():
        test_loss = estimate_loss(model, task["test"])
    return {"pool": task["pool"], "pool_tokens": int(len(task["fit_ids"]) + len(task["val_ids"])),
            "seed": seed, "method": task["method"], "lr": lr, "test_loss": test_loss,
            "val_loss": best["loss"], "step_kept": best["step"], "steps_run": hist.step[-1],
            "seconds": round(seconds, 2), "trainable": trainable,
            "adam_state_bytes": adam_state_bytes(trainable)}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    record_path = out_path(parser, args, RECORD)
    if min(args.pools) < 2:
        parser.error("--pools: every pool needs 2 poems or more (training and validation)")
    import torch

    from . import data, train
    from .text.poet_split import split_poet
    from .torch.gpt import GPT
    from .torch.gpt_train import estimate_loss

    torch.set_num_threads(args.threads)
    started = datetime.datetime.now(datetime.timezone.utc)
    ckpt = Path(args.checkpoint) if args.checkpoint else train.checkpoint_path("tang-without-bai-juyi")
    tok = train.checkpoint_tokenizer(ckpt)
    pretrained = GPT.from_checkpoint(ckpt)
    config, T = pretrained.config, pretrained.config.block_size
    poems = data.load_tang_poems(args.data_dir)
    split = split_poet(poems.author, poems.paragraphs, n_test=args.n_test)
    if max(args.pools) > len(split.pool_order):
        parser.error(f"--pools: {max(args.pools)} poems asked for; {split.poet} has "
                     f"{len(split.pool_order)} outside the test set")

    def ids(texts: list[str]) -> np.ndarray:
        return np.asarray(tok.encode("\n\n".join(texts)), np.int64)

    test = windows(ids(split.test), T)

    def test_loss(model: GPT) -> float:
        with torch.no_grad():
            return estimate_loss(model, test)

    record = {
        "command": "python -m bigmodel.finetune " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started_utc": started.isoformat(timespec="seconds"), "host_cpu": cpu_name(),
        "threads": args.threads, "jobs": args.jobs, "python": platform.python_version(),
        "torch": torch.__version__, "numpy": np.__version__, "checkpoint": ckpt.name,
        "poet": split.poet, "test_poems": len(split.test),
        "test_tokens": int(sum(x.size for x, _ in test)),
        "pretrained_test_loss": test_loss(pretrained),
        "untrained_test_loss": test_loss(GPT(config, seed=0)), "runs": [],
    }
    print(f"pretrained {record['pretrained_test_loss']:.4f}, untrained "
          f"{record['untrained_test_loss']:.4f} on {record['test_tokens']:,} test tokens", flush=True)
    settings = {k: getattr(args, k) for k in ("lr_scratch", "lr_full", "lr_lora", "max_steps",
                                              "batch", "eval_interval", "patience")}
    tasks = []
    for n in args.pools:
        fit, val = pool_parts(split.pool(n))
        fit_ids, val_ids = ids(fit), ids(val)
        tasks += [{"pool": n, "seed": seed, "method": method, "fit_ids": fit_ids,
                   "val_ids": val_ids, "test": test, "config": config, "checkpoint": str(ckpt),
                   "args": settings, "threads": args.threads}
                  for seed in args.seeds for method in args.methods]
    run_grid(_run_one, tasks, args.jobs, record, record_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Train the book's shipped character-level GPT checkpoints: ``python -m bigmodel.train``.

One command per corpus makes ``<out>/<corpus>.safetensors`` (the weights, the config and the
tokenizer's characters in the safetensors metadata), ``<out>/<corpus>.log`` (the training
log) and ``<out>/<corpus>.json`` (the command line, date, host CPU, library versions, steps,
wall time, the final validation loss on stated fixed batches, and the SHA-256 of the
.safetensors file). The shipped files in ``bigmodel/checkpoints/`` were made so, on one CPU
thread of a shared 2-core machine (43, 24 and 23 minutes)::

    python -m bigmodel.train --corpus shakespeare --config small --dropout 0.1 --steps 2500 \\
        --batch 32 --lr 3e-3 --warmup 200 --eval-interval 250 --eval-iters 20 --seed 0 --threads 1
    python -m bigmodel.train --corpus tang --config small --n-embd 96 --steps 2000 \\
        --batch 16 --lr 3e-3 --warmup 100 --eval-interval 250 --eval-iters 10 --seed 0 --threads 1
    python -m bigmodel.train --corpus tang-without-bai-juyi --config small --n-embd 96 \\
        --steps 2000 --batch 16 --lr 3e-3 --warmup 100 --eval-interval 250 --eval-iters 10 \\
        --seed 0 --threads 1 --out lib/bigmodel/checkpoints

(the third, the Tang recipe on the poems of every poet but 白居易, is the pretrained model
of the fine-tuning experiments; the lines are also in each ``.json``, with the data
directory in ``BIGMODEL_DATA``, and ``--out lib/bigmodel/checkpoints --overwrite`` to
replace the shipped files). The
model is :class:`bigmodel.torch.gpt.GPT`, trained in float32 by
:func:`bigmodel.torch.gpt_train.train` on the first 90 % of the corpus's token ids; the last
10 % are the validation split, as in chapter 05.

Only :func:`main` imports PyTorch, after every flag has been checked; the other functions
here need NumPy alone, so a reader of a checkpoint (:func:`checkpoint_tokenizer`,
:func:`check_batches`) needs no framework. Nothing is lost: ``--out`` must be named (the
package's own ``checkpoints/`` is never a default), files of an earlier run there are kept
unless ``--overwrite`` is given, and the three files are written only once training has
finished, each atomically (the log grows in ``<corpus>.partial.log`` meanwhile).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.resources
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .bench import cpu_name
from .checkpoint import load_checkpoint
from .files import atomic_write_text
from .flags import integer_flag, number_flag
from .gpt import CONFIGS, GPTConfig
from .gpt_train import TrainConfig, get_batch
from .inputs import integer, number, positive_int
from .text.tokenizer import CharTokenizer

__all__ = [
    "CORPORA",
    "CheckBatches",
    "checkpoint_path",
    "checkpoint_tokenizer",
    "check_batches",
    "corpus_text",
    "corpus_tokenizer",
    "file_sha256",
    "main",
    "split_ids",
]

CORPORA = ("shakespeare", "tang", "tang-without-bai-juyi")

# metadata key of the tokenizer's characters in the checkpoint (a JSON string)
TOKENIZER_KEY = "tokenizer"


def corpus_text(corpus: str, data_dir: str | os.PathLike | None = None) -> str:
    """The training text of ``corpus``: Tiny Shakespeare; the Tang poems as made by
    :func:`bigmodel.data.tang_text`; or (``tang-without-bai-juyi``) the same without the
    poems of :data:`bigmodel.text.poet_split.FINETUNE_POET` and those sharing a printed
    line with them (:func:`bigmodel.text.poet_split.split_poet`)."""
    from . import data

    if corpus == "shakespeare":
        return data.load_tiny_shakespeare(data_dir)
    if corpus == "tang":
        return data.tang_text(data.load_tang_poems(data_dir))
    if corpus == "tang-without-bai-juyi":
        from .text.poet_split import split_poet

        poems = data.load_tang_poems(data_dir)
        return "\n\n".join(split_poet(poems.author, poems.paragraphs).pretrain)
    raise ValueError(f"corpus={corpus!r} is unknown; use one of {CORPORA}")


def corpus_tokenizer(corpus: str, data_dir: str | os.PathLike | None = None) -> CharTokenizer:
    """The character tokenizer a checkpoint of ``corpus`` is trained with: the corpus's own
    characters, except for ``tang-without-bai-juyi``, which takes the whole Tang corpus's
    so that a model pretrained without the poet has an id for every character of their
    poems (some occur in no other poet's poems; their embeddings stay as initialised)."""
    if corpus == "tang-without-bai-juyi":
        corpus = "tang"
    return CharTokenizer.from_text(corpus_text(corpus, data_dir))


def split_ids(ids: np.ndarray, train_share: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """``(train, val)``: the first ``train_share`` of the ids and the rest, as chapter 05."""
    train_share = number(train_share, "train_share", 0, 1, low_open=True, high_open=True)
    n_train = int(train_share * len(ids))
    return ids[:n_train], ids[n_train:]


@dataclass(frozen=True)
class CheckBatches:
    """The fixed validation batches a checkpoint's stated loss is measured on.

    ``n`` batches of ``batch_size`` windows of ``block_size + 1`` tokens, drawn by
    :func:`bigmodel.gpt_train.get_batch` from ``numpy.random.default_rng(seed)`` out of the
    validation split.
    """

    n: int = 4
    batch_size: int = 16
    seed: int = 1234

    def __post_init__(self) -> None:
        positive_int(self.n, "n")
        positive_int(self.batch_size, "batch_size")
        integer(self.seed, "seed", low=0)


def check_batches(
    val_ids: np.ndarray, block_size: int, spec: CheckBatches = CheckBatches()
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``spec.n`` batches ``(x (B, T), y (B, T))`` of :class:`CheckBatches` from ``val_ids``."""
    rng = np.random.default_rng(spec.seed)
    return [get_batch(val_ids, spec.batch_size, block_size, rng) for _ in range(spec.n)]


def checkpoint_path(corpus: str, folder: str | os.PathLike | None = None) -> Path:
    """``<folder>/<corpus>.safetensors``; the default folder is the package's ``checkpoints/``."""
    if corpus not in CORPORA:
        raise ValueError(f"corpus={corpus!r} is unknown; use one of {CORPORA}")
    if folder is None:
        folder = Path(str(importlib.resources.files("bigmodel") / "checkpoints"))
    return Path(folder) / f"{corpus}.safetensors"


def checkpoint_tokenizer(path: str | os.PathLike) -> CharTokenizer:
    """The character tokenizer stored in the metadata of the checkpoint at ``path``.

    Raises:
        ValueError: the checkpoint holds no tokenizer (it was not written by this module).
    """
    _, _, meta = load_checkpoint(path)
    if TOKENIZER_KEY not in meta:
        raise ValueError(f"{path} holds no tokenizer in its metadata (keys: {sorted(meta)})")
    data = json.loads(meta[TOKENIZER_KEY])
    if data.get("type") != "char" or "chars" not in data:
        raise ValueError(f"{path}: the stored tokenizer is not a character tokenizer")
    return CharTokenizer(data["chars"])


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bigmodel.train",
        description="Train a character-level GPT on a corpus and write a checkpoint, a log "
        "and a JSON record.",
    )
    p.add_argument("--corpus", choices=CORPORA, required=True)
    p.add_argument("--config", default="small", choices=sorted(CONFIGS),
                   help="named GPTConfig to start from (bigmodel.gpt.CONFIGS); default small")
    positive = integer_flag(low=1)
    p.add_argument("--n-layer", type=positive, help="override the config's n_layer")
    p.add_argument("--n-head", type=positive, help="override the config's n_head")
    p.add_argument("--n-embd", type=positive, help="override the config's n_embd (width)")
    p.add_argument("--block-size", type=positive, help="override the config's context length")
    p.add_argument("--dropout", type=number_flag(0, 1, high_open=True),
                   help="override the config's dropout")
    p.add_argument("--steps", type=positive, default=2000, help="optimizer steps")
    p.add_argument("--batch", type=positive, default=16, help="sequences per step")
    p.add_argument("--lr", type=number_flag(0, low_open=True), default=3e-3,
                   help="peak learning rate")
    p.add_argument("--min-lr", type=number_flag(0), help="final learning rate (default lr / 10)")
    p.add_argument("--warmup", type=integer_flag(low=0), default=100, help="warm-up steps")
    p.add_argument("--eval-interval", type=positive, default=250)
    p.add_argument("--eval-iters", type=positive, default=20)
    p.add_argument("--seed", type=integer_flag(low=0), default=0,
                   help="initialisation and batch order")
    p.add_argument("--threads", type=positive, default=1,
                   help="CPU threads (torch.set_num_threads)")
    p.add_argument("--out", required=True,
                   help="output folder (created if missing); the shipped checkpoints are in "
                   "lib/bigmodel/checkpoints")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the files of an earlier run in --out (kept otherwise)")
    p.add_argument("--data-dir", default=None, help="where to look for the corpus first")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    problem = _check_args(args)
    if problem:
        parser.error(problem)  # one line and exit status 2, before any import or write
    import torch

    from .torch.gpt import GPT
    from .torch.gpt_train import estimate_loss, train

    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / f"{args.corpus}.safetensors"
    partial_log = out / f"{args.corpus}.partial.log"
    log_lines: list[str] = []

    def log(msg: str) -> None:
        print(msg, flush=True)
        log_lines.append(msg)
        partial_log.write_text("\n".join(log_lines) + "\n", "utf-8")

    started = datetime.datetime.now(datetime.timezone.utc)
    text = corpus_text(args.corpus, args.data_dir)
    tok = corpus_tokenizer(args.corpus, args.data_dir)
    ids = tok.encode(text)
    train_ids, val_ids = split_ids(ids)
    overrides = {
        k: v
        for k, v in {
            "n_layer": args.n_layer, "n_head": args.n_head, "n_embd": args.n_embd,
            "block_size": args.block_size, "dropout": args.dropout,
        }.items()
        if v is not None
    }
    config: GPTConfig = CONFIGS[args.config].replace(vocab_size=tok.vocab_size, **overrides)
    cfg = TrainConfig(
        max_steps=args.steps, batch_size=args.batch, lr=args.lr,
        min_lr=args.min_lr if args.min_lr is not None else args.lr / 10,
        warmup_steps=args.warmup, eval_interval=args.eval_interval,
        eval_iters=args.eval_iters, seed=args.seed,
    )
    model = GPT(config, seed=args.seed)
    log(f"python -m bigmodel.train {' '.join(argv if argv is not None else sys.argv[1:])}")
    log(f"started {started.isoformat(timespec='seconds')} on {cpu_name()}, "
        f"{args.threads} thread(s), torch {torch.__version__}")
    log(f"corpus {args.corpus}: {len(text):,} characters, vocabulary {tok.vocab_size:,}, "
        f"train {len(train_ids):,} / val {len(val_ids):,} tokens")
    log(f"config {config.to_json()}, {model.param_count():,} parameters")
    log(f"train {cfg}")

    t0 = time.perf_counter()
    hist = train(model, train_ids, val_ids, cfg, precision="float32", show_progress=True)
    wall = time.perf_counter() - t0
    for s, lo, vl, sec in zip(hist.step, hist.loss, hist.val_loss, hist.seconds, strict=True):
        log(f"step {s:6d}  train loss {lo:.4f}  val loss {vl:.4f}  {sec:8.1f} s")
    spec = CheckBatches()
    check_loss = estimate_loss(model, check_batches(val_ids, config.block_size, spec))
    log(f"final validation loss on the check batches {spec}: {check_loss:.4f}")
    log(f"wall time {wall:.0f} s ({hist.tokens_per_second:,.0f} tokens/s)")

    log(f"writing {ckpt}")
    model.save(ckpt, metadata={
        TOKENIZER_KEY: json.dumps({"type": "char", "chars": tok.chars}, ensure_ascii=False),
        "corpus": args.corpus,
    })
    record = {
        "command": "python -m bigmodel.train "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "started_utc": started.isoformat(timespec="seconds"),
        "host_cpu": cpu_name(),
        "threads": args.threads,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "corpus": args.corpus,
        "corpus_characters": len(text),
        "vocab_size": tok.vocab_size,
        "train_tokens": int(len(train_ids)),
        "val_tokens": int(len(val_ids)),
        "config": config.to_dict(),
        "parameters": model.param_count(),
        "train_config": {**cfg.__dict__, "betas": list(cfg.betas)},
        "steps": hist.step[-1],
        "wall_seconds": round(wall, 1),
        "tokens_per_second": round(hist.tokens_per_second, 1),
        "history": {"step": hist.step, "train_loss": hist.loss, "val_loss": hist.val_loss},
        "final_val_loss_train_eval": hist.val_loss[-1],
        "final_val_loss_train_eval_batches": f"bigmodel.gpt_train.eval_batches(train, val, "
        f"{cfg.batch_size}, {config.block_size}, {cfg.eval_iters}, seed={cfg.seed})['val']",
        "check_batches": spec.__dict__,
        "check_val_loss": check_loss,
        "safetensors": ckpt.name,
        "safetensors_bytes": ckpt.stat().st_size,
        "sha256": file_sha256(ckpt),
    }
    atomic_write_text(out / f"{args.corpus}.json", json.dumps(record, indent=1) + "\n")
    log(f"wrote {ckpt} ({ckpt.stat().st_size:,} bytes), sha256 {record['sha256']}")
    os.replace(partial_log, out / f"{args.corpus}.log")
    return 0


def _check_args(args: argparse.Namespace) -> str | None:
    """What is wrong with the flags together, in one line, or ``None``; needs no framework
    (each flag alone was checked by its type as it was parsed, :mod:`bigmodel.flags`)."""
    if args.min_lr is not None and args.min_lr > args.lr:
        return f"--min-lr must lie in [0, --lr], got {args.min_lr}"
    overrides = {k: v for k in ("n_layer", "n_head", "n_embd", "block_size")
                 if (v := getattr(args, k)) is not None}
    try:  # the shape, before the corpus is read (its vocabulary size does not matter here)
        CONFIGS[args.config].replace(vocab_size=2, **overrides)
    except ValueError as err:
        return f"the model's shape: {err}"
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file; name a folder"
    earlier = [p.name for p in (out / f"{args.corpus}{ext}" for ext in (".safetensors", ".json", ".log"))
               if p.exists()]
    if earlier and not args.overwrite:
        return (f"--out {out} holds an earlier run ({', '.join(earlier)}); name another folder, "
                "or add --overwrite to replace it")
    return None


if __name__ == "__main__":
    sys.exit(main())

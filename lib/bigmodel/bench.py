"""Benchmarks (not tests): ``python -m bigmodel.bench gpt --framework torch --config tiny``.

Prints one JSON object: training throughput in tokens/s, the FLOP/s it implies
(:func:`bigmodel.gpt.flops_per_token`), and the model FLOPs utilisation (MFU) when the
device is a GPU of known peak (:data:`bigmodel.gpt.PEAK_FLOPS`); on a CPU MFU is ``null``.
With ``--target-val-loss`` it trains on Tiny Shakespeare until the validation loss reaches
the target and reports the wall time, with the first (compiling) step separately.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shlex
import sys
from pathlib import Path

import numpy as np

from .files import atomic_write_text
from .flags import integer_flag, number_flag
from .gpt import CONFIGS, flops_per_token, mfu, param_count, peak_flops
from .gpt_train import TrainConfig
from .hardware import PRECISIONS


def cpu_name() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``; elsewhere what ``platform`` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# CPU instructions that compute bfloat16 natively (x86: AVX-512 BF16, AMX; Arm: BF16).
BF16_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")


def cpu_bf16_flags() -> list[str] | None:
    """Which of ``BF16_FLAGS`` the CPU reports (Linux ``/proc/cpuinfo``); ``None``
    where the flags cannot be read. Without any of them bfloat16 is emulated on the CPU
    and can run many times slower than float32.
    """
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return None
    flags: set[str] = set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            flags |= set(line.split(":", 1)[1].split())
    return [f for f in BF16_FLAGS if f in flags]


def _data(block_size: int, synthetic: bool) -> tuple[np.ndarray, np.ndarray, int]:
    if synthetic:  # throughput does not depend on the text
        tokens = np.random.default_rng(0).integers(0, 65, 200_000)
        return tokens[:180_000], tokens[180_000:], 65
    from .data import load_tiny_shakespeare
    from .text.tokenizer import CharTokenizer

    text = load_tiny_shakespeare()
    tok = CharTokenizer.from_text(text)
    data = tok.encode(text)
    n = int(0.9 * len(data))
    return data[:n], data[n:], tok.vocab_size


def bench_gpt(args: argparse.Namespace) -> dict:
    config = CONFIGS[args.config]
    if args.block_size is not None:
        config = config.replace(block_size=args.block_size)
    target = args.target_val_loss
    train_tokens, val_tokens, vocab = _data(config.block_size, synthetic=target is None)
    config = config.replace(vocab_size=vocab)
    steps = args.max_steps if target is not None else args.steps
    cfg = TrainConfig(
        max_steps=steps,
        batch_size=args.batch_size,
        lr=args.lr,
        min_lr=args.lr / 10,
        warmup_steps=min(100, steps // 10),
        eval_interval=args.eval_interval if target is not None else steps,
        eval_iters=args.eval_iters,
        betas=tuple(args.betas),
    )
    out: dict = {"framework": args.framework}
    if args.framework == "torch":
        import torch

        from .torch import describe_device, pick_device, precision, seed_everything, set_matmul_precision
        from .torch.gpt import GPT
        from .torch.gpt_train import train

        seed_everything(0)
        device = pick_device(args.device)
        # the book's policy: TF32 off unless asked for (it changes float32 results)
        set_matmul_precision("high" if args.tf32 else "highest")
        model = GPT(config, seed=0).to(device)
        dtype = args.precision or precision(device)
        hist = train(
            model, train_tokens, val_tokens, cfg, precision=dtype,
            compile=args.compile, show_progress=False, target_val_loss=target,
        )
        name = describe_device(device)
        out["torch"] = torch.__version__
    else:
        from .tf import describe_device, pick_device, precision, seed_everything  # noqa: I001
        from .tf import set_matmul_precision
        import tensorflow as tf  # after bigmodel.tf, which quiets its start-up log

        from .tf.gpt import GPT
        from .tf.gpt_train import train

        seed_everything(0, deterministic=False)
        device = pick_device(args.device)
        set_matmul_precision("high" if args.tf32 else "highest")
        dtype = args.precision or precision(device)
        with tf.device(device):
            model = GPT(config, seed=0)
            hist = train(
                model, train_tokens, val_tokens, cfg, precision=dtype,
                compile=args.compile, show_progress=False, target_val_loss=target,
            )
        name = describe_device(device)
        out["tensorflow"] = tf.__version__
    tps = hist.tokens_per_second
    tps = 0.0 if math.isnan(tps) else tps  # a single step: no steady-state throughput
    peak = peak_flops(name)
    out.update(
        config_name=args.config,
        config=config.to_dict(),
        params=param_count(config),
        device=name,
        precision=dtype,
        tf32=args.tf32,
        compile=args.compile,
        batch_size=args.batch_size,
        lr=cfg.lr,
        betas=list(cfg.betas),
        steps=hist.step[-1],
        tokens_per_s=round(tps, 1),
        flops_per_token=flops_per_token(config),
        achieved_flops_per_s=tps * flops_per_token(config),
        peak_flops_per_s=peak,
        mfu=mfu(tps, config, peak),
        first_step_s=round(hist.first_step_seconds, 3),
        train_s=round(hist.seconds[-1], 3),
        final_val_loss=round(hist.val_loss[-1], 4),
    )
    if target is not None:
        reached = hist.val_loss[-1] <= target
        out.update(
            target_val_loss=target,
            reached=reached,
            wall_s_to_target=round(hist.seconds[-1], 3) if reached else None,
            compile_s=round(hist.first_step_seconds, 3),
        )
    return out


def parser() -> argparse.ArgumentParser:
    """The command line's flags, each checked by its type (:mod:`bigmodel.flags`)."""
    positive = integer_flag(low=1)
    p = argparse.ArgumentParser(prog="python -m bigmodel.bench", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    g = sub.add_parser("gpt", help="GPT training throughput / time to a validation loss")
    g.add_argument("--framework", choices=("torch", "tf"), default="torch")
    g.add_argument("--config", choices=sorted(CONFIGS), default="tiny")
    g.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best)")
    g.add_argument("--batch-size", type=positive, default=32)
    g.add_argument("--block-size", type=positive, default=None,
                   help="context length (default: the config's; nanoGPT's CPU example uses 64)")
    g.add_argument("--steps", type=positive, default=30, help="timed steps (throughput mode)")
    g.add_argument("--lr", type=number_flag(0, low_open=True), default=3e-3)
    g.add_argument("--compile", action="store_true", help="torch.compile / XLA jit_compile")
    g.add_argument("--precision", choices=PRECISIONS, default=None,
                   help="default: the device's (bfloat16 on Ampere+, float16 on a T4, float32)")
    g.add_argument("--tf32", action="store_true",
                   help="allow TF32 matrix products on Ampere+ (off by the book's policy)")
    g.add_argument("--target-val-loss", type=number_flag(0, low_open=True), default=None)
    g.add_argument("--max-steps", type=positive, default=5000, help="give up after (target mode)")
    g.add_argument("--eval-interval", type=positive, default=100)
    g.add_argument("--eval-iters", type=positive, default=10)
    g.add_argument("--betas", type=number_flag(0, 1, high_open=True), nargs=2, default=(0.9, 0.95),
                   metavar=("B1", "B2"),
                   help="AdamW's betas (nanoGPT's shakespeare_char recipe: 0.9 0.99)")
    g.add_argument("--threads", type=positive, default=None, help="CPU threads (torch)")
    g.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)  # 0 is not "unset": each flag's type refuses it
    if args.threads is not None and args.framework == "torch":
        import torch

        torch.set_num_threads(args.threads)
    result = bench_gpt(args)
    result = {
        "benchmark": "gpt",
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "python -m bigmodel.bench " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
        "host": {
            "cpu": cpu_name(),
            "cpus": os.cpu_count(),
            "os": platform.platform(),
            "python": platform.python_version(),
        },
        **result,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.out, text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

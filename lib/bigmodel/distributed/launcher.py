"""Starting worker processes and never hanging: a timeout, the whole process tree stopped,
and the failing worker's last lines in the error."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..inputs import integer, number, positive_int


class LaunchError(RuntimeError):
    """A launched run failed: a worker died, it timed out, or it wrote no results."""


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something listens on ``host:port`` (or the port cannot be bound)."""
    port = integer(port, "port", low=1, high=65535)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def check_port_free(port: int, host: str = "127.0.0.1") -> int:
    """``port`` if nothing holds it, else a ``ValueError`` naming it and the fix."""
    port = integer(port, "port", low=1, high=65535)
    if port_in_use(port, host):
        raise ValueError(
            f"port {port} on {host} is in use (another run, or a worker left over?); "
            "pick another with bigmodel.distributed.free_port()"
        )
    return port


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free now (the OS's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def torchrun_command(module: str, args: Sequence[str], nproc: int, port: int,
                     nnodes: int = 1, node_rank: int = 0, master_addr: str = "127.0.0.1",
                     python: str | None = None) -> list[str]:
    """``python -m torch.distributed.run ... -m module args``: the launcher line.

    The same line runs ``nproc`` processes per node on ``nnodes`` nodes; on a cluster only
    ``--nnodes``, ``--node-rank`` and ``--master-addr`` change (the first node's address).
    """
    positive_int(nproc, "nproc")
    positive_int(nnodes, "nnodes")
    integer(port, "port", low=1, high=65535)
    integer(node_rank, "node_rank", low=0, high=nnodes - 1)
    return [python or sys.executable, "-m", "torch.distributed.run",
            f"--nnodes={nnodes}", f"--nproc-per-node={nproc}", f"--node-rank={node_rank}",
            f"--master-addr={master_addr}", f"--master-port={port}",
            "-m", module, *args]


def tf_config(port_list: Sequence[int], index: int, host: str = "localhost") -> str:
    """``TF_CONFIG`` for worker ``index`` of a cluster of workers on ``host:port``."""
    integer(index, f"index (of {len(port_list)} workers)", low=0, high=len(port_list) - 1)
    return json.dumps({"cluster": {"worker": [f"{host}:{p}" for p in port_list]},
                       "task": {"type": "worker", "index": index}})


def _child_env(extra: dict[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    lib = str(Path(__file__).resolve().parents[2])  # so `-m bigmodel...` imports this copy
    env["PYTHONPATH"] = os.pathsep.join([lib, *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(extra or {})
    return env


_KEY_LINE = re.compile(r"^(\[rank\d+\]: )?\w*(Error|Exception): |^rank \d+: |^\s*(rank|exitcode)\s*: ")


def _tail(text: str, lines: int = 8) -> str:
    """The workers' own error lines (a traceback's last line, a rank's message, torchrun's
    root cause), else the last ``lines`` lines: what a reader needs, not the whole log."""
    keep = [ln.rstrip() for ln in text.strip().splitlines() if ln.strip()]
    key = list(dict.fromkeys(ln for ln in keep if _KEY_LINE.search(ln)))[-6:]
    return "\n".join(key or keep[-lines:])


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``. torchrun starts each worker in a session of its own,
    so killing the launcher's process group alone would leave the workers running."""
    try:
        import psutil

        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except Exception:  # psutil missing, or the process is gone: read /proc (Linux)
        pass
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _kill_tree(proc: subprocess.Popen, grace: float = 3.0) -> None:
    """SIGTERM the launcher and everything below it, then SIGKILL what is left after
    ``grace`` seconds: nothing of the run survives."""
    pids = [proc.pid, *_descendants(proc.pid)]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGTERM:
            time.sleep(0.2)  # let the workers finish exiting before the SIGKILL round
    proc.wait()


def launch(cmd: Sequence[str], out: str | os.PathLike, timeout: float,
           env: dict[str, str] | None = None) -> dict:
    """Run ``cmd`` (a launcher or one worker) and return the ``results.json`` it wrote in ``out``.

    Its output goes to ``out/launch.log``. On a timeout the command and every process it
    started (the workers) are stopped, so nothing is left running and nothing hangs.

    Raises:
        LaunchError: the command exited with an error (the message holds the workers' error
            lines), ran past ``timeout`` seconds, or finished without writing ``results.json``.
    """
    timeout = number(timeout, "timeout", 0, low_open=True, hint="in seconds")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").unlink(missing_ok=True)
    log = out / "launch.log"
    t0 = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.Popen(list(cmd), stdout=f, stderr=subprocess.STDOUT, text=True,
                                env=_child_env(env), start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(proc)
            raise LaunchError(
                f"timed out after {timeout:g} s (a worker hung, or waits for a peer that is "
                f"gone); all its processes were stopped. The workers said:\n"
                f"{_tail(log.read_text())}"
            ) from None
        finally:
            if proc.poll() is None:  # interrupted (Ctrl-C in a notebook): leave nothing behind
                _kill_tree(proc)
    if proc.returncode != 0:
        raise LaunchError(
            f"the run failed with exit code {proc.returncode} after "
            f"{time.perf_counter() - t0:.1f} s. The workers said:\n{_tail(log.read_text())}"
        )
    return _read_results(out, log.read_text())


def _read_results(out: Path, log: str) -> dict:
    path = out / "results.json"
    if not path.is_file():
        raise LaunchError(f"the run exited cleanly but wrote no {path}. "
                          f"The workers said:\n{_tail(log)}")
    return json.loads(path.read_text())


def launch_workers(cmds: Sequence[Sequence[str]], out: str | os.PathLike, timeout: float,
                   envs: Sequence[dict[str, str]] | None = None) -> dict:
    """Run one process per command at once (worker 0 writes ``out/results.json``).

    When any worker exits with an error, the others are killed at once (they would wait
    for it forever in the next all-reduce) and :class:`LaunchError` names the worker.
    """
    timeout = number(timeout, "timeout", 0, low_open=True, hint="in seconds")
    out = Path(out)
    (out / "results.json").unlink(missing_ok=True)
    envs = list(envs or [{}] * len(cmds))
    logs = [out / f"worker{i}.log" for i in range(len(cmds))]
    out.mkdir(parents=True, exist_ok=True)
    files = [open(p, "w") for p in logs]  # noqa: SIM115 (closed below)
    procs = [subprocess.Popen(list(c), stdout=f, stderr=subprocess.STDOUT, text=True,
                              env=_child_env(e), start_new_session=True)
             for c, e, f in zip(cmds, envs, files, strict=True)]
    deadline = time.monotonic() + timeout
    failed: tuple[int, int] | None = None
    try:
        while True:
            codes = [p.poll() for p in procs]
            bad = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if bad:
                failed = bad[0]
                break
            if all(c == 0 for c in codes):
                break
            if time.monotonic() > deadline:
                raise LaunchError(
                    f"timed out after {timeout:g} s; all {len(procs)} workers were killed. "
                    f"Worker 0 said:\n{_tail(logs[0].read_text())}"
                )
            time.sleep(0.05)
    finally:
        for p in procs:
            if p.poll() is None:
                _kill_tree(p)
        for f in files:
            f.close()
    if failed is not None:
        i, code = failed
        raise LaunchError(
            f"worker {i} of {len(procs)} died with exit code {code}; the others were "
            f"stopped. It said:\n{_tail(logs[i].read_text())}"
        )
    return _read_results(out, logs[0].read_text())

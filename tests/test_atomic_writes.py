"""The library writes files only through bigmodel.files.atomic_write (temporary file, then
rename), so that a crash or a bad value never leaves a half-written file over a good one.

A scan of the library's source for the ways Python, NumPy and safetensors write files;
each place outside ``bigmodel/files.py`` must go through ``atomic_write`` or be listed in
:data:`ALLOWED` with its reason.
"""

from __future__ import annotations

import re

from conftest import ROOT

LIB = ROOT / "lib" / "bigmodel"
WRITES = re.compile(r"\.write_text\(|\.write_bytes\(|open\([^)]*['\"][wa]b?['\"]|"
                    r"np\.savez?(_compressed)?\(|\bsave_file\(|\.savefig\(|os\.fdopen\(")

#: ``"path: code"`` -> why a direct write is right there.
ALLOWED = {
    "data/fetching.py": "the download engine's own temporary file, renamed when its SHA-256 "
                        "is right (the same scheme, with its permission errors named)",
    "distributed/launcher.py": "live logs of running processes, read while they run",
    "train.py": "the partial log of a run in progress, rewritten at every line; the final "
                "log, checkpoint and record are written atomically",
}


def direct_writes() -> list[str]:
    found = []
    for path in sorted(LIB.rglob("*.py")):
        rel = path.relative_to(LIB).as_posix()
        if rel == "files.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if WRITES.search(code) and "atomic_write" not in code and not code.strip().startswith(
                    ('"', "'", "f\"")):
                found.append(f"{rel}:{n}: {line.strip()}")
    return found


def test_every_write_is_atomic_or_has_a_reason():
    bad = [w for w in direct_writes() if w.split(":", 1)[0] not in ALLOWED]
    assert not bad, "direct writes (use bigmodel.files.atomic_write):\n" + "\n".join(bad)


def test_the_scan_finds_a_direct_write():
    """Null case: the pattern matches the usual ways to write a file."""
    for code in ['Path(p).write_text(s)', 'open(p, "w")', "np.savez(p, **a)", "save_file(a, p)",
                 'fig.savefig("x.png")']:
        assert WRITES.search(code), code
    assert not WRITES.search("atomic_write_text(p, s)".replace("atomic_write_text", "f"))

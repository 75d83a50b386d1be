"""The API reference (book/api.md) keeps up with the library, without importing it."""

from __future__ import annotations

import ast
import re

import pytest

from conftest import ROOT

LIB = ROOT / "lib"
API = ROOT / "book" / "api.md"


def public_modules() -> set[str]:
    """``bigmodel``, ``bigmodel.data``, ..., ``bigmodel.torch.gpt``: every non-private module."""
    out = set()
    for f in (LIB / "bigmodel").rglob("*.py"):
        parts = f.relative_to(LIB).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not any(p.startswith("_") for p in parts):
            out.add(".".join(parts))
    return out


def dunder_all(path) -> list[str]:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return list(ast.literal_eval(node.value))
    return []


def test_api_reference_documents_every_module():
    """A new module in lib/bigmodel needs an ``automodule`` in book/api.md."""
    documented = set(re.findall(r"^\.\. automodule:: (\S+)", API.read_text(), re.M))
    missing = public_modules() - documented
    assert not missing, f"modules missing from book/api.md: {sorted(missing)}"
    stale = documented - public_modules()
    assert not stale, f"book/api.md documents modules that no longer exist: {sorted(stale)}"


@pytest.mark.parametrize("package", ["torch", "tf"])
def test_api_reference_lists_every_reexport(package):
    """``bigmodel.torch.X`` and ``bigmodel.tf.X`` resolve as cross-references for every X in __all__."""
    text = API.read_text()
    block = text.split(f".. py:currentmodule:: bigmodel.{package}\n", 1)[1].split("```", 1)[0]
    listed = re.findall(r"^\.\. py:\w+:: (\w+)", block, re.M)
    assert sorted(listed) == sorted(dunder_all(LIB / "bigmodel" / package / "__init__.py"))

"""bigmodel.torch and bigmodel.tf mirror each other in signatures, not only in names.

For every public function and class of each module (and every public method of each
class), the parameters (names, order, kinds and defaults) must be the same in the two
packages. Differences must be listed below, with the reason.
"""

from __future__ import annotations

import importlib
import inspect

import pytest
from test_packages import ONLY_TORCH_MODULES, public_names

# (module, qualified name): why the two frameworks differ there.
ALLOWED = {
    ("loop", "fit"): "TensorFlow adds jit_compile (XLA), which PyTorch has no switch for here "
    "(fcnn.fit and cnn.fit are this function)",
    ("gpt", "GPT"): "TensorFlow has no autocast: its model casts its own matrix products "
    "(compute_dtype, a precision word); PyTorch's autocast needs no model argument",
    ("gpt", "GPT.__init__"): "as gpt.GPT",
    ("encoder", "Encoder"): "as gpt.GPT: TensorFlow's encoder also takes compute_dtype",
    ("encoder", "Encoder.__init__"): "as gpt.GPT",
    ("device", "pick_device"): "returns each framework's device handle: a torch.device, or "
    "a device string for tf.device",
    ("gpt", "causal_mask"): "PyTorch builds the mask on a device; TensorFlow places it by context",
}


def _framework_neutral(annotation) -> str:
    """An annotation with each framework's name for the same thing made equal."""
    text = annotation if isinstance(annotation, str) else repr(annotation)
    for fw in ("torch.", "tf."):
        text = text.replace(fw, "FW.")
    for optimizer in ("FW.keras.optimizers.Optimizer", "FW.optim.Optimizer", "FW.optim.AdamW"):
        text = text.replace(optimizer, "FW.Optimizer")
    text = text.replace("FW.nn.Module", "FW.Module").replace("FW.DType", "FW.dtype")
    return "FW.Module" if text == "nn.Module" else text


def _signature(obj) -> list[tuple[str, str, str]] | None:
    """Parameters (name, kind, default) and the return annotation, framework names equal."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    params = [(p.name, p.kind.name, repr(p.default)) for p in sig.parameters.values()]
    return [*params, ("->", "", _framework_neutral(sig.return_annotation))]


def _members(module: str, name: str) -> dict[str, object]:
    """``name`` and, for a class, ``name.method`` for its public methods defined in bigmodel."""
    out = {}
    for package in ("bigmodel.torch", "bigmodel.tf"):
        obj = getattr(importlib.import_module(f"{package}.{module}"), name)
        out[package] = obj
    return out


def _pairs():
    t, f = public_names("bigmodel.torch"), public_names("bigmodel.tf")
    for module in sorted(t):
        if module == "__init__" or module in ONLY_TORCH_MODULES:
            continue
        for name in sorted(t[module] & f[module]):
            objs = _members(module, name)
            a, b = objs["bigmodel.torch"], objs["bigmodel.tf"]
            if not (callable(a) and callable(b)):
                continue
            yield module, name, a, b
            if inspect.isclass(a) and inspect.isclass(b):
                for attr in sorted(set(vars(a)) | set(vars(b))):
                    if attr.startswith("_") and attr != "__init__":
                        continue
                    ma, mb = getattr(a, attr, None), getattr(b, attr, None)
                    if callable(ma) and callable(mb):
                        yield module, f"{name}.{attr}", ma, mb


PAIRS = list(_pairs())


@pytest.mark.parametrize("module, name, a, b", PAIRS, ids=[f"{m}.{n}" for m, n, _, _ in PAIRS])
def test_same_signature(module, name, a, b):
    if (module, name) in ALLOWED:
        pytest.skip(ALLOWED[(module, name)])
    sa, sb = _signature(a), _signature(b)
    assert sa == sb, f"{module}.{name}: torch {sa}\n  tf {sb}"


def test_the_allowlist_is_not_stale():
    """Every allowed difference still exists: a fixed one must leave the list."""
    by_key = {(m, n): (a, b) for m, n, a, b in PAIRS}
    for key, reason in ALLOWED.items():
        assert key in by_key, f"{key} is allowed ({reason}) but no longer a shared name"
        a, b = by_key[key]
        assert _signature(a) != _signature(b), f"{key} is allowed to differ but no longer does"


def test_the_check_can_fail():
    def f(x, y=1): ...

    def g(x, y=2): ...

    assert _signature(f) != _signature(g)

"""Progress bars that are live in Jupyter, Colab and terminals, and absent from stored pages.

Set ``BIGMODEL_PROGRESS=0`` to switch every bar off; ``make execute`` does so, so the
notebooks' stored outputs (which nbval compares and the book shows) hold no bar noise.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any


def enabled() -> bool:
    """Whether progress bars are shown (``BIGMODEL_PROGRESS`` is not ``0``)."""
    return os.environ.get("BIGMODEL_PROGRESS", "1") != "0"


def progress(iterable: Iterable | None = None, show: bool = True, **kwargs: Any):
    """``tqdm.auto.tqdm(iterable, **kwargs)``, shown only if ``show`` and :func:`enabled`.

    ``tqdm.auto`` draws a widget in Jupyter (when ipywidgets is installed) and text in a
    terminal, so the same call works in both.
    """
    if not (show and enabled()) and iterable is not None:
        # no bar: skip tqdm.auto, whose import warns on stderr where ipywidgets is missing
        return iterable
    from tqdm.auto import tqdm

    kwargs["disable"] = not (show and enabled())
    kwargs.setdefault("leave", False)
    return tqdm(iterable, **kwargs)

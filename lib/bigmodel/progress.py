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


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (Jupyter, JupyterLab, Colab), where stderr is not a TTY."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _have_widgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def progress(iterable: Iterable | None = None, show: bool = True, **kwargs: Any):
    """A progress bar over ``iterable``, shown only if ``show`` and :func:`enabled`.

    In a terminal it is tqdm's text bar. In a notebook it is tqdm's widget where
    ipywidgets is installed (Jupyter with ipywidgets, Colab); where it is not, no bar is
    drawn at all, because tqdm's text bar would print a warning and one stderr line per
    update into the notebook.
    """
    show = show and enabled()
    if show and _in_notebook() and not _have_widgets():
        show = False
    if not show and iterable is not None:
        return iterable
    if _in_notebook():
        from tqdm.notebook import tqdm
    else:
        from tqdm.std import tqdm
    kwargs["disable"] = not show
    kwargs.setdefault("leave", False)
    return tqdm(iterable, **kwargs)

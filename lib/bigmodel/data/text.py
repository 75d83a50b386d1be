"""The text data sets: Tiny Shakespeare, the rt-polarity sentences and the Tang poems."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .fetching import _locate


def load_tiny_shakespeare(
    data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> str:
    """Return Tiny Shakespeare (1,115,394 characters of Shakespeare's plays) as one string."""
    _, contents = _locate("tinyshakespeare", data_dir, download)
    return contents["input.txt"].decode("utf-8")


def load_rt_polarity(
    data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> tuple[list[str], np.ndarray]:
    """The sentence polarity data set v1.0 (Pang and Lee, 2005): 10,662 movie-review snippets.

    Returns:
        ``(texts, labels)``: 5,331 positive snippets (label 1) followed by 5,331 negative
        ones (label 0); each text is one lower-cased, tokenised line. The published archive
        holds Windows-1252 text; the files are kept, and checked, as UTF-8.
    """
    _, contents = _locate("rt-polarity", data_dir, download)
    texts: list[str] = []
    labels: list[int] = []
    for name, label in (("rt-polarity.pos", 1), ("rt-polarity.neg", 0)):
        lines = contents[name].decode("utf-8").splitlines()
        texts += lines
        labels += [label] * len(lines)
    return texts, np.array(labels, dtype=np.int64)


@dataclass(frozen=True)
class TangPoems:
    """《全唐诗》 (Complete Tang Poems, compiled 1705) as digitised by the chinese-poetry
    project (MIT license, commit 99ebbef): 57,607 poems in traditional characters.

    Item ``i`` is poem ``i`` in the order of the files ``poet.tang.0.json``,
    ``poet.tang.1000.json``, ... ``poet.tang.57000.json`` (by number) and of the poems in
    each file. The text is as published: traditional characters, full-width punctuation
    (``，`` and ``。`` end the halves of a couplet), editorial notes in brackets such as
    ``（一作...）``, and ``□`` for a character lost in the sources.

    Attributes:
        title: ``(N,)`` the poems' titles.
        author: ``(N,)`` the poets' names.
        paragraphs: per poem its lines as published, usually one couplet per line
            (``"床前明月光，疑是地上霜。"``); 4 poems have none.
        source: the directory the files were read from.
    """

    title: list[str]
    author: list[str]
    paragraphs: list[list[str]]
    source: Path

    def __len__(self) -> int:
        return len(self.title)

    @property
    def n_characters(self) -> int:
        """Characters in all the lines, punctuation included (3,668,082)."""
        return sum(len(line) for lines in self.paragraphs for line in lines)


def _tang_order(name: str) -> int:
    """``poet.tang.12000.json`` -> 12000, so the files are read in the published order."""
    m = re.fullmatch(r"poet\.tang\.(\d+)\.json", name)
    if m is None:  # the manifest lists only such names; guard against a changed manifest
        raise ValueError(f"unexpected Tang-poem file name {name!r}; expected poet.tang.<N>.json")
    return int(m.group(1))


def load_tang_poems(data_dir: str | os.PathLike | None = None, *, download: bool = True) -> TangPoems:
    """The 57,607 poems of 《全唐诗》 in traditional characters, from 58 checked JSON files.

    Every file is checked against the SHA-256 manifest shipped with this package. The poems
    hold 3,668,082 characters of poem text (the ``paragraphs``), 9,588 distinct ones.

    Args:
        data_dir: a directory to look in first (see the module docstring for the order); it
            may hold ``tang/poet.tang.*.json`` or ``quan-tang-shi-poet.tang.tar.gz``, directly
            or in ``tang-poems/``.
        download: allow the download of the 58 files (25 MB of JSON) from the chinese-poetry
            repository at the pinned commit (``$BIGMODEL_TANG_POEMS_URL`` overrides the address).

    Returns:
        :class:`TangPoems`; :func:`tang_text` makes one training text of it.
    """
    import json

    d, contents = _locate("tang-poems", data_dir, download)
    title: list[str] = []
    author: list[str] = []
    paragraphs: list[list[str]] = []
    for name in sorted(contents, key=_tang_order):
        try:
            poems = json.loads(contents[name].decode("utf-8"))
            for p in poems:
                title.append(str(p["title"]))
                author.append(str(p["author"]))
                paragraphs.append([str(line) for line in p["paragraphs"]])
        except (ValueError, KeyError, TypeError) as e:  # only if the manifest were changed
            raise ValueError(f"{name} is not a list of poems with title, author, paragraphs: {e!r}") from e
    return TangPoems(title=title, author=author, paragraphs=paragraphs, source=d)


def tang_text(poems: TangPoems) -> str:
    """One training text of the poems: each poem's lines joined by ``"\\n"``, poems separated
    by a blank line (``"\\n\\n"``), titles and authors left out, poems without lines skipped.

    The titles are left out because they are not verse: a median of 6 characters, but 66
    of them longer than 100 (whole sentences of prose), so a character model trained on them
    would spend capacity on prose and mix it into the lines whose form (5 or 7 characters
    per half-line, :func:`bigmodel.text.poems.form_share`) the book measures. The blank line
    marks where a poem ends, so a model learns to end a poem and to begin the next; a
    prompt of ``"\\n\\n"`` asks for a new poem. The text has 57,603 poems and 9,589
    distinct characters (the 9,588 of the poems and ``"\\n"``).
    """
    return "\n\n".join("\n".join(lines) for lines in poems.paragraphs if lines)

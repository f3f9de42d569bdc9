"""Progress bars for long work, on a terminal's stderr only: a log or a pipe gets no frames,
only the summary line each command prints when it is done."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any


def bar(iterable: Iterable | None = None, **options: Any):
    """A tqdm bar on stderr, cleared when done, shown only where stderr is a terminal."""
    from tqdm import tqdm  # not imported by commands that show no bar

    return tqdm(iterable, file=sys.stderr, leave=False, disable=None, **options)

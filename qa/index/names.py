"""Which files a path stands for, and the names the index gives them: where each file is
(links not followed for its name), relative to the working directory when under it."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from qa.documents.loaders import supported
from qa.errors import UsageError


def absolute(path: Path) -> Path:
    """``path`` made absolute without following links: a linked file is named where its
    link is (it leaves the index with the link), and a link loop raises nothing."""
    return Path(os.path.abspath(path))


def source_name(path: Path) -> str:
    """How citations name a file: relative to the working directory when under it."""
    whole = absolute(path)
    try:
        return str(whole.relative_to(Path.cwd()))
    except ValueError:
        return str(whole)


def shown(name: str) -> str:
    """``name`` as it can be printed and stored: the bytes of a name that is not UTF-8 (made
    under another encoding) written as ``\\xe9``; any other name as it is."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def discover(paths: Iterable[Path]) -> Iterator[Path]:
    """Supported files under ``paths``, sorted, each once; symlink loops are not followed."""
    seen: set[Path] = set()
    for root in paths:
        if not root.exists():
            raise UsageError(f"no such file or directory: {root}")
        candidates = (
            [root]
            if root.is_file()
            else sorted(
                Path(d) / f
                for d, _, files in os.walk(root)
                for f in files  # walk skips link loops
            )
        )
        for path in candidates:
            if not (path.is_file() and supported(path)):
                continue  # a link loop or a dangling link is no file
            real = path.resolve()  # a file linked twice is indexed once
            if real not in seen:
                seen.add(real)
                yield path


def under(name: str, roots: list[tuple[Path, Path]]) -> bool:
    """Whether the indexed file ``name`` lies under one of ``roots`` (each as named and with
    its links followed): as named, or with links followed on both sides, as names were made
    before, so that a folder reached through a link is not indexed twice under two names."""
    path = absolute(Path(name))
    if any(path.is_relative_to(named) for named, _ in roots):
        return True
    try:
        return any(path.resolve().is_relative_to(real) for _, real in roots)
    except (OSError, RuntimeError):  # a link loop on the way
        return False

"""llama.cpp's KV-cache state for the prompt's fixed prefix: kept on disk between processes,
and in memory between calls, so that a call with another prompt (the judge's) costs the
next answer nothing.

llama-cpp-python's own ``save_state`` copies its 300 MB logits buffer too; these use
llama.cpp's state API directly (``Llama`` keeps no public handle for it: ``_ctx.ctx``).
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """The context's state and the tokens it holds."""

    data: bytes
    tokens: tuple[int, ...]


def state_file(llama: Any, contents: list[str], cache_dir: Path) -> Path:
    """Where the state after reading ``contents`` with this model file is kept."""
    model = Path(llama.model_path)
    stat = model.stat()
    key = [str(model.resolve()), str(stat.st_size), str(stat.st_mtime_ns)]
    # Weights held in another layout compute the state by other kernels: not the same bytes.
    key += [str(llama.n_ctx()), str(llama.model_params.use_extra_bufts), *contents]
    digest = hashlib.sha256("\0".join(key).encode()).hexdigest()[:24]
    return cache_dir / "kv" / f"{digest}.bin"


def load_file(llama: Any, path: Path) -> bool:
    import llama_cpp

    capacity = llama.n_ctx()
    tokens = (llama_cpp.llama_token * capacity)()
    count = ctypes.c_size_t(0)
    if not llama_cpp.llama_state_load_file(
        llama._ctx.ctx, str(path).encode(), tokens, capacity, ctypes.byref(count)
    ):
        log.info("could not load the prompt cache %s; reading the prefix again", path)
        return False
    _set_tokens(llama, tokens[: count.value])
    return True


def save_file(llama: Any, path: Path) -> None:
    import llama_cpp

    n = llama.n_tokens
    tokens = (llama_cpp.llama_token * n)(*llama.input_ids[:n])
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.partial")
    if llama_cpp.llama_state_save_file(llama._ctx.ctx, str(partial).encode(), tokens, n):
        partial.replace(path)  # atomic: another process never loads half a file


def snapshot(llama: Any) -> Snapshot:
    import llama_cpp

    size = llama_cpp.llama_state_get_size(llama._ctx.ctx)
    buf = (ctypes.c_uint8 * size)()
    used = llama_cpp.llama_state_get_data(llama._ctx.ctx, buf, size)
    return Snapshot(bytes(buf[:used]), tuple(int(t) for t in llama.input_ids[: llama.n_tokens]))


def restore(llama: Any, snap: Snapshot) -> None:
    import llama_cpp

    buf = (ctypes.c_uint8 * len(snap.data)).from_buffer_copy(snap.data)
    llama_cpp.llama_state_set_data(llama._ctx.ctx, buf, len(snap.data))
    _set_tokens(llama, snap.tokens)


def _set_tokens(llama: Any, tokens: Any) -> None:
    """Tell the ``Llama`` object which tokens its KV cache now holds (prefix matching)."""
    llama.input_ids[: len(tokens)] = tokens
    llama.n_tokens = len(tokens)

"""The layout llama.cpp holds the in-process model's weights in, measured per CPU and recorded
(``python -m qa.models.tuning``, run by ``make install``, measures it with the embedding path).

llama.cpp can repack a GGUF's weights at load into the layout its kernels for this CPU
prefer, or use them as the file stores them. Repacked weights make each generated token
cheaper, but on an AVX-512 EPYC they read a prompt of 150 tokens 1.6x slower (its batched
kernels are not the repacked ones), and an answer is mostly its prompt: so the layout is
timed on an answer's shape (160 tokens read, 20 made) each way, and the model loads by the
record (without one: repacked, llama.cpp's default).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from qa.config import Settings
from qa.models.tuning import PROBE, best_of, chosen, read_choice, record_path, said, write_record


class Layout(StrEnum):
    """How llama.cpp holds the model's weights (the same weights either way)."""

    REPACKED = "repacked"  # rearranged at load for this CPU's kernels: llama.cpp's default
    STORED = "as-stored"  # as the file stores them, mapped from it (a quicker load, less memory)


LAYOUT_DEFAULT = Layout.REPACKED


def in_process(settings: Settings) -> str | None:
    """The settings' in-process model, as a record names it: the bundled model by its name,
    a GGUF file by where it is (None: the LLM is a server's)."""
    from qa.models.bundled import DEFAULT_BUNDLED

    if settings.llm == "bundled":
        return settings.llm_model or DEFAULT_BUNDLED
    if settings.llm == "gguf":
        return str(Path(settings.llm_path).expanduser().resolve())
    return None


def layout_record_of(settings: Settings) -> Path | None:
    """Where this CPU's weight layout for the settings' in-process model is kept, with the
    llama.cpp build (its kernels decide); None: the LLM is a server's."""
    if (model := in_process(settings)) is None:
        return None
    try:
        built = version("llama_cpp_python")
    except PackageNotFoundError:
        built = ""
    return record_path(settings, "llm", settings.llm, model, built)


def layout(settings: Settings) -> Layout | None:
    """The recorded fastest weight layout for the settings' model on this CPU (llama.cpp's
    default without one; None: the LLM is a server's, no weights here)."""
    if (record := layout_record_of(settings)) is None:
        return None
    return read_choice(record, "layout", Layout) or LAYOUT_DEFAULT


def describe_layout(settings: Settings) -> str:
    """How the model's weights are held here, as ``qa status`` says it."""
    if (record := layout_record_of(settings)) is None:
        return "none here (the LLM is a server's)"
    return said(read_choice(record, "layout", Layout), LAYOUT_DEFAULT)


def answer_like(llama: Any) -> None:
    """What an answer asks of the model: its passages and question read (the 160 tokens an
    answer reads past its cached instructions, here from an empty cache) and a draft made
    (the median draft of every corpus measured is 14-18 tokens: 20)."""
    tokens = llama.tokenize(" ".join(PROBE).encode(), add_bos=False)[:180]
    llama.reset()
    llama.eval(tokens[:160])
    for token in tokens[160:]:
        llama.eval([token])


def measure_layouts(
    load: Callable[[Layout], Any],
    run: Callable[[Any], None] = answer_like,
    rounds: int = 3,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Seconds per weight layout for ``run`` on the model ``load`` gives held so: the best of
    ``rounds`` after a warm-up; one model loaded at a time."""
    seconds = {}
    for held in Layout:
        llama = load(held)
        try:
            run(llama)
            seconds[held] = best_of(lambda llama=llama: run(llama), rounds, clock)
        finally:
            llama.close()
    return seconds


def tune_layout(settings: Settings) -> dict | None:
    """Time an answer's shape with each weight layout of the settings' in-process model and
    record the fastest; returns the record (None: the LLM is a server's)."""
    from qa.models.local import gguf_of, load_llama

    if (found := gguf_of(settings)) is None or (record := layout_record_of(settings)) is None:
        return None
    path = str(found[0])
    # A context that holds the probe: its size does not change the kernels timed.
    seconds = measure_layouts(lambda held: load_llama(path, 1024, settings.threads, held))
    return write_record(record, chosen("layout", seconds, settings))

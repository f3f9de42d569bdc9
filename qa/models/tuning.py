"""What this CPU runs fastest, measured once and recorded: the embedding path and the layout
llama.cpp holds the model's weights in.

Documents can be embedded four ways, each giving the same vectors (cosine >= 0.9999): ONNX
sessions run one per core (what wins on AVX-512: a small model keeps one core busier on a short
batch than intra-op threads keep two), one ONNX session spreading each batch over the cores,
sentence-transformers in torch, or, where the CPU computes in bfloat16 natively (AVX512_BF16,
AMX), the export compiled by OpenVINO in bfloat16. Which is fastest depends on the CPU (on a
2-core AVX2-only EPYC the per-core sessions gained nothing over torch), so ``python -m
qa.models.tuning`` (run by ``make install``) times those this machine has on the same texts,
keeps those whose vectors agree with the first's, and records the winner per CPU, model and
thread count; ingest reads the record and, without one, runs the sessions per core.

llama.cpp can repack a GGUF's weights at load into the layout its kernels for this CPU
prefer, or use them as the file stores them. Repacked weights make each generated token
cheaper, but on an AVX-512 EPYC they read a prompt of 150 tokens 1.6x slower (its batched
kernels are not the repacked ones), and an answer is mostly its prompt: so the same command
times an answer's shape (160 tokens read, 20 made) each way, and the model loads by the
record (without one: repacked, llama.cpp's default).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from qa.config import Settings, load_settings
from qa.errors import QAError


class EmbeddingPath(StrEnum):
    """How documents are embedded (each gives the same vectors)."""

    PER_CORE = "per-core"  # ONNX, one session run by a caller per core
    INTRA_OP = "intra-op"  # ONNX, one caller, the session's threads share each batch
    TORCH = "torch"  # sentence-transformers
    BF16 = "bf16"  # OpenVINO, bfloat16 arithmetic, one stream per core


class Layout(StrEnum):
    """How llama.cpp holds the model's weights (the same weights either way)."""

    REPACKED = "repacked"  # rearranged at load for this CPU's kernels: llama.cpp's default
    STORED = "as-stored"  # as the file stores them, mapped from it (a quicker load, less memory)


DEFAULT = EmbeddingPath.PER_CORE
LAYOUT_DEFAULT = Layout.REPACKED
# A probe like chunks of prose: 96 of about 75 tokens (half a second a path on AVX-512).
PROBE = [
    f"Section {i}: the reader opens file {i} and checks each record against the schema, "
    "keeping the rows whose fields parse; a row that fails is logged with its line number "
    "and skipped, so that one bad line never stops the import of the rest. The options "
    f"set the separator, the quoting and the encoding; version {i % 7}.{i % 3} added streaming."
    for i in range(96)
]


def cpu() -> tuple[str, str]:
    """The CPU's model name and its instruction-set flags (what decides the fastest path)."""
    found = {}
    try:
        with open("/proc/cpuinfo") as info:  # Linux names the model; platform does not
            for line in info:
                key, _, value = line.partition(":")
                found.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    name = found.get("model name") or platform.machine()
    return name, found.get("flags", "")


def _record(settings: Settings, *model: object) -> Path:
    """Where this CPU's choice for a model, at the settings' thread count, is kept."""
    key = json.dumps([cpu(), *model, settings.threads])
    return settings.cache_dir / "tuning" / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"


def record_of(settings: Settings) -> Path:
    """Where this CPU's embedding path for the settings' embedding model is kept."""
    from qa.models.embeddings import model_id

    return _record(settings, model_id(settings.embed_model))


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
    return _record(settings, "llm", settings.llm, model, built)


Choice = TypeVar("Choice", bound=StrEnum)


def _read(path: Path | None, field: str, kind: type[Choice]) -> Choice | None:
    """The choice a record holds, if it holds one this code wrote."""
    if path is None:
        return None
    try:
        return kind(json.loads(path.read_text())[field])
    except (OSError, ValueError, KeyError, TypeError):  # none, or not one this code wrote
        return None


def _write(path: Path, record: dict) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
    return record


def _measured(settings: Settings) -> EmbeddingPath | None:
    """The path recorded for these settings on this CPU, if one was."""
    return _read(record_of(settings), "embedding_path", EmbeddingPath)


def layout(settings: Settings) -> Layout | None:
    """The recorded fastest weight layout for the settings' model on this CPU (llama.cpp's
    default without one; None: the LLM is a server's, no weights here)."""
    if (record := layout_record_of(settings)) is None:
        return None
    return _read(record, "layout", Layout) or LAYOUT_DEFAULT


def recorded(settings: Settings) -> EmbeddingPath:
    """The recorded fastest path for these settings on this CPU (``DEFAULT`` without one)."""
    return _measured(settings) or DEFAULT


def describe(settings: Settings) -> str:
    """How documents are embedded here, as ``qa status`` says it."""
    return _said(_measured(settings), DEFAULT)


def describe_layout(settings: Settings) -> str:
    """How the model's weights are held here, as ``qa status`` says it."""
    if (record := layout_record_of(settings)) is None:
        return "none here (the LLM is a server's)"
    return _said(_read(record, "layout", Layout), LAYOUT_DEFAULT)


def _said(found: StrEnum | None, default: StrEnum) -> str:
    if found:
        return f"{found} (measured fastest on this CPU)"
    return f"{default} (not measured on this CPU: python -m qa.models.tuning)"


def _best(run: Callable[[], object], rounds: int, clock: Callable[[], float]) -> float:
    """The best of ``rounds`` timings of ``run``: a busy moment costs one round, not the
    choice."""
    runs = []
    for _ in range(rounds):
        start = clock()
        run()
        runs.append(clock() - start)
    return min(runs)


def measure(
    embed: Callable[[EmbeddingPath, list[str]], Any],
    texts: list[str],
    paths: list[EmbeddingPath] | None = None,
    rounds: int = 3,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Seconds per path to embed ``texts``: the best of ``rounds``, after a warm-up that
    makes the sessions, pays first calls and gives the vectors: a path whose vectors stray
    from the first path's (cosine under 0.9999) is not timed."""
    seconds, first = {}, None
    for path in paths or list(EmbeddingPath):
        vectors = embed(path, texts)
        if first is None:
            first = vectors
        elif vectors is not None and float(np.min(np.sum(first * vectors, axis=1))) < 0.9999:
            continue
        seconds[path] = _best(lambda path=path: embed(path, texts), rounds, clock)
    return seconds


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
            seconds[held] = _best(lambda llama=llama: run(llama), rounds, clock)
        finally:
            llama.close()
    return seconds


def tune(settings: Settings) -> dict:
    """Time every path on this CPU and record the fastest; returns the record. Without an
    ONNX export (a model the exporter cannot take) torch is the only path: recorded untimed."""
    from qa.models.embeddings import load_embeddings

    embeddings = load_embeddings(settings.embed_model, settings.cache_dir, settings.threads)
    embeddings.prepare()
    if embeddings.exported() is None:
        seconds = {EmbeddingPath.TORCH: 0.0}
    else:
        seconds = measure(embeddings.embed_with, PROBE, embeddings.paths())
    return _write(record_of(settings), _chosen("embedding_path", seconds, settings))


def tune_layout(settings: Settings) -> dict | None:
    """Time an answer's shape with each weight layout of the settings' in-process model and
    record the fastest; returns the record (None: the LLM is a server's)."""
    from qa.models.local import gguf_of, load_llama

    if (found := gguf_of(settings)) is None or (record := layout_record_of(settings)) is None:
        return None
    path = str(found[0])
    # A context that holds the probe: its size does not change the kernels timed.
    seconds = measure_layouts(lambda held: load_llama(path, 1024, settings.threads, held))
    return _write(record, _chosen("layout", seconds, settings))


def _chosen(field: str, seconds: dict[str, float], settings: Settings) -> dict:
    return {
        field: str(min(seconds, key=seconds.__getitem__)),
        "seconds": {str(k): round(v, 4) for k, v in seconds.items()},
        "threads": settings.threads,
        "cpu": cpu()[0],
    }


def main() -> None:
    """Measure and record; a model that cannot be loaded leaves the default (one line)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        settings = load_settings()
    except QAError as e:
        print(f"nothing measured ({e})", file=sys.stderr)
        return
    for what, field, tuner, default in (
        ("embedding path", "embedding_path", tune, f"documents embed {DEFAULT}"),
        ("weight layout", "layout", tune_layout, f"the model loads {LAYOUT_DEFAULT}"),
    ):
        try:
            record = tuner(settings)
        except QAError as e:
            print(f"{what} not measured ({e}): {default}", file=sys.stderr)
            continue
        if record:
            chosen = record[field]
            timings = ", ".join(f"{k} {v:.2f} s" for k, v in record["seconds"].items())
            print(f"{what} for this CPU: {chosen} ({timings})", file=sys.stderr)


if __name__ == "__main__":
    main()

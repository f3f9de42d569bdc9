"""What this CPU runs fastest, measured once and recorded: the embedding path (here) and the
layout llama.cpp holds the model's weights in (``qa.models.layouts``).

Documents can be embedded five ways, each giving the same vectors (cosine >= 0.9999): ONNX
sessions run one per core (what wins on AVX-512: a small model keeps one core busier on a short
batch than intra-op threads keep two), one ONNX session spreading each batch over the cores,
sentence-transformers in torch, the export compiled by OpenVINO in float32, or, where the CPU
computes in bfloat16 natively (AVX512_BF16, AMX), in bfloat16. Which is fastest depends on the
CPU (on a 2-core AVX2-only EPYC the per-core sessions gained nothing over torch), so ``python
-m qa.models.tuning`` (run by ``make install``) times those this machine has on the same
texts, keeps those whose vectors agree with the first's, and records the winner per CPU, model
and thread count; ingest reads the record and, without one, runs the sessions per core.
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
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from qa.config import Settings, load_settings
from qa.errors import ModelUnavailableError, QAError

if TYPE_CHECKING:
    import numpy as np


class EmbeddingPath(StrEnum):
    """How documents are embedded (each gives the same vectors)."""

    PER_CORE = "per-core"  # ONNX, one session run by a caller per core
    INTRA_OP = "intra-op"  # ONNX, one caller, the session's threads share each batch
    TORCH = "torch"  # sentence-transformers
    OPENVINO_F32 = "openvino-f32"  # OpenVINO, float32, one stream per core
    OPENVINO_BF16 = "openvino-bf16"  # OpenVINO, bfloat16 arithmetic, one stream per core


DEFAULT = EmbeddingPath.PER_CORE
# A probe like chunks of prose: 96 of 1 to 8 sentences (about 75 tokens on average; half a
# second a path on AVX-512). Their lengths differ so that batches differ: a path that wrote a
# batch's vectors into another's rows would stray, where near-identical texts would hide it.
SENTENCES = (
    "The reader opens the file and checks each record against the schema.",
    "Rows whose fields parse are kept; a row that fails is logged with its line number.",
    "One bad line never stops the import of the rest of the file.",
    "The options set the separator, the quoting and the text encoding.",
    "Version 2 added streaming, so that large files are read in pieces.",
    "A summary at the end counts the rows kept and the rows skipped.",
    "Errors name the file, the line and the field that did not parse.",
    "The writer mirrors the reader, quoting any field that holds the separator.",
)
PROBE = [
    f"Section {i}: " + " ".join((SENTENCES[i % 8 :] + SENTENCES[: i % 8])[: 1 + i // 12])
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


def record_path(settings: Settings, *model: object) -> Path:
    """Where this CPU's choice for a model, at the settings' thread count, is kept."""
    key = json.dumps([cpu(), *model, settings.threads])
    return settings.cache_dir / "tuning" / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"


def record_of(settings: Settings) -> Path:
    """Where this CPU's embedding path for the settings' embedding model is kept."""
    from qa.models.embeddings import model_id

    return record_path(settings, model_id(settings.embed_model))


Choice = TypeVar("Choice", bound=StrEnum)


def read_choice(path: Path | None, field: str, kind: type[Choice]) -> Choice | None:
    """The choice a record holds, if it holds one this code wrote."""
    if path is None:
        return None
    try:
        return kind(json.loads(path.read_text())[field])
    except (OSError, ValueError, KeyError, TypeError):  # none, or not one this code wrote
        return None


def write_record(path: Path, record: dict) -> dict:
    """Keep ``record`` at ``path``; returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
    return record


def _measured(settings: Settings) -> EmbeddingPath | None:
    """The path recorded for these settings on this CPU, if one was."""
    return read_choice(record_of(settings), "embedding_path", EmbeddingPath)


def recorded(settings: Settings) -> EmbeddingPath:
    """The recorded fastest path for these settings on this CPU (``DEFAULT`` without one)."""
    return _measured(settings) or DEFAULT


def describe(settings: Settings) -> str:
    """How documents are embedded here, as ``qa status`` says it."""
    return said(_measured(settings), DEFAULT)


def said(found: StrEnum | None, default: StrEnum) -> str:
    """A recorded choice as ``qa status`` says it, or the default it stands in for."""
    if found:
        return f"{found} (measured fastest on this CPU)"
    return f"{default} (not measured on this CPU: python -m qa.models.tuning)"


def best_of(run: Callable[[], object], rounds: int, clock: Callable[[], float]) -> float:
    """The best of ``rounds`` timings of ``run``: a busy moment costs one round, not the
    choice."""
    runs = []
    for _ in range(rounds):
        start = clock()
        run()
        runs.append(clock() - start)
    return min(runs)


def measure(
    embed: Callable[[EmbeddingPath, list[str]], np.ndarray],
    texts: list[str],
    paths: list[EmbeddingPath] | None = None,
    rounds: int = 3,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Seconds per path to embed ``texts``: the best of ``rounds``, after a warm-up that
    makes the sessions and pays first calls. A path whose vectors stray from the first
    measured path's (a cosine under 0.9999, or not a number) is not timed where its warm-up
    strays, and not chosen where a timed run does; one that cannot run here is skipped. Each
    says so."""
    import numpy as np  # here: ``qa status`` and the model's load import this module

    def agree(a: np.ndarray, b: np.ndarray) -> bool:
        return bool((np.sum(a * b, axis=1) >= 0.9999).all())

    seconds: dict[str, float] = {}
    first = None
    for path in paths or list(EmbeddingPath):
        try:
            runs = [embed(path, texts)]
            reference = runs[0] if first is None else first
            if not agree(reference, runs[0]):
                print(f"embedding path {path} not timed: vectors stray", file=sys.stderr)
                continue

            def again(path: EmbeddingPath = path, runs: list = runs) -> None:
                runs.append(embed(path, texts))

            took = best_of(again, rounds, clock)
        except ModelUnavailableError as e:
            print(f"embedding path {path} not timed: {e}", file=sys.stderr)
            continue
        if all(agree(reference, vectors) for vectors in runs[1:]):
            seconds[path], first = took, reference
        else:
            print(f"embedding path {path} not chosen: its vectors stray", file=sys.stderr)
    return seconds


def tune(settings: Settings) -> dict:
    """Time every path on this CPU and record the fastest; returns the record. Without an
    ONNX export (a model the exporter cannot take) torch is the only path: recorded untimed."""
    from qa.models.embeddings import load_embeddings

    embeddings = load_embeddings(settings.embed_model, settings.cache_dir, settings.threads)
    embeddings.prepare()
    paths = embeddings.paths()
    if paths == [EmbeddingPath.TORCH]:
        seconds = {EmbeddingPath.TORCH: 0.0}
    else:
        seconds = measure(embeddings.embed_with, PROBE, paths)
    return write_record(record_of(settings), chosen("embedding_path", seconds, settings))


def chosen(field: str, seconds: dict[str, float], settings: Settings) -> dict:
    """The record of a measurement: the fastest choice, every time, and where it was made."""
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
    from qa.models.layouts import LAYOUT_DEFAULT, tune_layout  # it imports this module

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
            pick = record[field]
            timings = ", ".join(f"{k} {v:.2f} s" for k, v in record["seconds"].items())
            print(f"{what} for this CPU: {pick} ({timings})", file=sys.stderr)


if __name__ == "__main__":
    main()

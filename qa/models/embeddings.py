"""Sentence-transformers embeddings: the bundled model, a local path, or a hub name.

Query-time text (the question, the sentences ranked against it, the claims checked) goes
through an ONNX export of the very same model, run by onnxruntime: a one-off ``qa ask`` then
never imports torch, which takes longer than the whole answer's retrieval. Documents are
embedded by the path this CPU runs fastest (``qa.models.tuning``: by default the export, one
core per batch, about 1.5x the chunks a second of sentence-transformers on AVX-512; where the
CPU computes in bfloat16, the export in OpenVINO, whose embedding alone runs at 1.7x that:
``qa.models.encoders``). The export is made once, next to the bundled LLM in the cache, the
first time sentence-transformers is loaded, and it is kept only if it gives the same vectors;
without it, everything is embedded with sentence-transformers.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import cache, cached_property
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from qa.errors import ModelUnavailableError
from qa.models.bundled import bundled, embedding_path
from qa.models.encoders import OnnxEncoder, OpenVinoEncoder
from qa.models.tuning import DEFAULT, EmbeddingPath

log = logging.getLogger(__name__)

QUERY_CACHE = 50_000  # query-time vectors kept: sentences recur across questions
OPENVINO = (EmbeddingPath.OPENVINO_F32, EmbeddingPath.OPENVINO_BF16)


def model_id(name: str) -> str:
    """The identity recorded in an index: stable for bundled names, absolute for paths."""
    if bundled(name, "embedding"):
        return f"bundled:{name}"
    path = Path(name).expanduser()
    return str(path.resolve()) if path.exists() else name


def resolve(name: str) -> str:
    """Where the model ``name`` is: a bundled model's folder, else the name as given."""
    return str(embedding_path(name)) if bundled(name, "embedding") else name


@cache
def _export_dir(name: str, cache_dir: Path) -> Path:
    """Where the ONNX export of ``name`` lives; a new model file gets a new folder."""
    location = Path(resolve(name))
    files = sorted(location.rglob("*")) if location.is_dir() else []
    stamp = [model_id(name)] + [f"{f.relative_to(location)}:{f.stat().st_size}" for f in files]
    return cache_dir / "onnx" / hashlib.sha256("\n".join(stamp).encode()).hexdigest()[:16]


class LazyEmbeddings(Embeddings):
    """Loads a model on first use, so commands that embed nothing (an unchanged re-index,
    ``qa status``) never pay for it. Queries are embedded by the ONNX export where there is
    one (it is made on the first load of sentence-transformers), documents by
    ``embedding_path``; sentence-transformers where there is no export."""

    def __init__(
        self,
        name: str,
        cache_dir: Path | None = None,
        threads: int = 1,
        path_of: Callable[[], EmbeddingPath] = lambda: DEFAULT,
    ) -> None:
        self.name = name
        self.cache_dir = cache_dir
        self.threads = threads
        self.path_of = path_of
        self._seen: OrderedDict[str, np.ndarray] = OrderedDict()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_with(self.embedding_path, texts).tolist()

    @cached_property
    def embedding_path(self) -> EmbeddingPath:
        """How documents are embedded (read on first use: this CPU's recorded choice)."""
        return self.path_of()

    def embed_with(self, path: EmbeddingPath, texts: list[str]) -> np.ndarray:
        """Unit vectors by ``path``; sentence-transformers where asked or where there is no
        ONNX export; onnxruntime where an OpenVINO path was asked and cannot run here."""
        if path != EmbeddingPath.TORCH and self._folder() is None:
            self.prepare()  # its first load makes the export
        if path == EmbeddingPath.TORCH or self._folder() is None:
            return np.array(self.prepare().embed_documents(texts), dtype=np.float32)
        if path in OPENVINO and (encoder := self.openvino(path == EmbeddingPath.OPENVINO_BF16)):
            return encoder.encode(texts)
        return self.exported(path == EmbeddingPath.INTRA_OP).encode(texts)

    def paths(self) -> list[EmbeddingPath]:
        """The paths this machine embeds by: torch alone without an export, OpenVINO's only
        where it is installed, its bfloat16 only where the CPU computes in bfloat16."""
        if self.exported() is None:
            return [EmbeddingPath.TORCH]
        return [
            p
            for p in EmbeddingPath
            if p not in OPENVINO or self.openvino(p == EmbeddingPath.OPENVINO_BF16) is not None
        ]

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    def encode(self, texts: list[str]) -> np.ndarray:
        """Query-time vectors, one row per text (remembered: in a session the same
        sentences are ranked again and again)."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._seen))
        if missing:
            vectors = self.embed_with(EmbeddingPath.PER_CORE, missing)
            for text, vector in zip(missing, vectors, strict=True):
                self._seen[text] = vector
        for text in texts:
            self._seen.move_to_end(text)
        while len(self._seen) > QUERY_CACHE:
            self._seen.popitem(last=False)
        return np.array([self._seen[t] for t in texts])

    def prepare(self) -> Embeddings:
        """Sentence-transformers, loaded once a process; its first load makes the ONNX export
        where none is in the cache yet."""
        model = torch_embeddings(self.name)
        if self.cache_dir is not None:
            folder = _export_dir(self.name, self.cache_dir)
            if not folder.exists():
                folder.parent.mkdir(parents=True, exist_ok=True)
                from qa.models.onnx_export import export_onnx

                try:
                    made = export_onnx(model._client, folder)
                except Exception as e:  # any exporter failure only costs query speed
                    log.info("no ONNX export of %s (%s): queries use torch", self.name, e)
                    made = False
                if not made:
                    self.cache_dir = None  # do not try again in this process
        return model

    def _folder(self) -> Path | None:
        """The ONNX export's folder, where there is an export."""
        if self.cache_dir is None:
            return None
        folder = _export_dir(self.name, self.cache_dir)
        return folder if (folder / "export.json").exists() else None

    def exported(self, intra_op: bool = False) -> OnnxEncoder | None:
        """The ONNX export in onnxruntime, where there is one (None: sentence-transformers)."""
        return _onnx(str(folder), self.threads, intra_op) if (folder := self._folder()) else None

    def openvino(self, bf16: bool = False) -> OpenVinoEncoder | None:
        """The export compiled by OpenVINO, in float32 or bfloat16 (None: not here)."""
        if (folder := self._folder()) is None:
            return None
        with _compiling:
            return _openvino(str(folder), self.threads, bf16)


def load_embeddings(
    name: str,
    cache_dir: Path | None = None,
    threads: int = 1,
    path_of: Callable[[], EmbeddingPath] = lambda: DEFAULT,
) -> LazyEmbeddings:
    """The embedding model ``name``; vectors are normalised so L2 distance ranks like cosine.
    With ``cache_dir``, queries run on an ONNX export of the model kept there; documents by
    the path ``path_of`` gives (``qa.models.tuning.recorded``: this CPU's fastest)."""
    return LazyEmbeddings(name, cache_dir, threads, path_of)


# One session per export and thread count, also where a thread opens it ahead of the first
# query (``qa ask``: beside Chroma's import, 0.15 s off the path to the first token).
_opening = threading.Lock()
# OpenVINO's compiles (a second or more) have a lock of their own: a server's first question
# never waits on a document upload's compile to open its session.
_compiling = threading.Lock()


def _onnx(folder: str, threads: int, intra_op: bool = False) -> OnnxEncoder:
    with _opening:
        return _session(folder, threads, intra_op)


@cache
def _session(folder: str, threads: int, intra_op: bool) -> OnnxEncoder:
    return OnnxEncoder(Path(folder), threads, intra_op)


@cache
def _openvino(folder: str, threads: int, bf16: bool) -> OpenVinoEncoder | None:
    try:
        return OpenVinoEncoder(Path(folder), threads, bf16)
    except ModelUnavailableError as e:
        log.info("OpenVINO not used: %s", e)
        return None


@cache
def torch_embeddings(name: str) -> Embeddings:
    """The model in sentence-transformers (loaded once a process)."""
    import transformers
    from langchain_huggingface import HuggingFaceEmbeddings

    transformers.logging.disable_progress_bar()  # our own progress goes to stderr

    location = resolve(name)
    if bundled(name, "embedding") or Path(location).exists():
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

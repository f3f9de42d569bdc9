"""The ONNX export of a sentence-transformers model: made once, kept only where onnxruntime
gives its very vectors (``qa.models.embeddings`` runs it). Imported only where torch is."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

from qa.models.encoders import INPUTS, OnnxEncoder

log = logging.getLogger(__name__)


def export_onnx(model, folder: Path) -> bool:
    """Write ``model`` (a SentenceTransformer) to ``folder`` as ONNX plus its tokenizer.
    Kept only if onnxruntime then gives the same vectors; False when it could not be made."""
    import torch

    tokenizer = getattr(model.tokenizer, "backend_tokenizer", None)
    probe = ["An export is kept only if it agrees.", "Short one."]
    features = model.preprocess(probe)
    names = [n for n in INPUTS if n in features]
    if tokenizer is None or "input_ids" not in names:
        return False  # a slow tokenizer, or not a text model: queries use sentence-transformers

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors):
            return self.model(dict(zip(names, tensors, strict=True)))["sentence_embedding"]

    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=folder.parent))
    try:
        tokenizer = type(tokenizer).from_str(tokenizer.to_str())  # a copy to configure
        tokenizer.enable_truncation(model.max_seq_length)
        tokenizer.enable_padding(pad_id=model.tokenizer.pad_token_id or 0)
        tokenizer.save(str(staging / "tokenizer.json"))
        axes = {n: {0: "batch", 1: "tokens"} for n in names}
        # The exporter's own warnings (opset details) go to the log, not the user's terminal.
        with torch.no_grad(), warnings.catch_warnings(record=True) as noise:
            torch.onnx.export(
                Graph().eval(),
                tuple(features[n] for n in names),
                str(staging / "model.onnx"),
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes={**axes, "sentence_embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        for warning in noise:
            log.debug("onnx export: %s", warning.message)
        got = OnnxEncoder(staging, 1).encode(probe)
        want = model.encode(probe, normalize_embeddings=True)
        if float(np.min(np.sum(got * want, axis=1))) < 0.9999:
            return False
        (staging / "export.json").write_text(json.dumps({"inputs": names}))
        staging.replace(folder)  # atomic: a reader sees a whole export or none
        return True
    finally:
        shutil.rmtree(staging, ignore_errors=True)

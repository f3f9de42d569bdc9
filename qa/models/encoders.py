"""The ONNX export of the embedding model, run by onnxruntime in float32 (queries, and documents
by default) or compiled by OpenVINO (documents, where ``qa.models.tuning`` measured it faster):
in bfloat16 where the CPU computes in it natively (embedding alone 1.7x onnxruntime's rate on
an AVX-512 EPYC with AVX512_BF16, its vectors at cosine >= 0.9999 to float32's), or in float32
(1.5x torch with both held to AVX2 on that EPYC, where onnxruntime's sessions had gained
nothing on an AVX2 CPU).

Both batch texts the same way: sorted by token length and grouped so that a batch is padded
to about its own longest text, each batch on one core.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from qa.errors import ModelUnavailableError

INPUTS = ("input_ids", "attention_mask", "token_type_ids")
Batch = tuple[list[int], dict[str, np.ndarray]]  # the rows of the output, the model's inputs
_FIRST = threading.Lock()  # held while an encoder's first batch in this process runs


class Encoder:
    """Texts to unit vectors through the export's tokenizer: batches run on ``pool``, each
    by ``vectors``, which subclasses give (one batch's raw vectors)."""

    pool: ThreadPoolExecutor  # set by subclasses: how many batches run at once
    warm = False  # whether this kind of encoder has run a batch in this process

    # A batch's padded tokens (rows x its longest row): a chunk over half of it goes alone.
    # 256 against 128 took 8% less CPU on one-row spreadsheet chunks (27 tokens) and on
    # slides (122), the same vectors; 1024 and more took more (docs/formats.md).
    TOKENS = 256
    ROUND = 1  # batches are padded to a multiple of this many tokens

    def __init__(self, folder: Path, width: int, tokens: int = TOKENS) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.pad = (self.tokenizer.padding or {}).get("pad_id", 0)
        # No batch is padded past the model's length (rounding up could): its positions end.
        self.longest = (self.tokenizer.truncation or {}).get("max_length") or 1 << 30
        self.tokenizer.no_padding()  # each batch is padded to its own longest text below
        self.width = width
        self.tokens = tokens

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, one row per text."""
        out = np.zeros((len(texts), self.width), dtype=np.float32)

        def one(batch: Batch) -> None:
            rows, feed = batch
            out[rows] = _unit(self.vectors(feed))

        batches = self.batches(texts)
        with _FIRST:
            if not type(self).warm and (first := next(batches, None)):
                # An extension's first run sets up statics (pybind11's numpy API) under a C++
                # guard while taking the interpreter lock: two pool threads doing it at once
                # deadlocked a server (OpenVINO, seen under py-spy). The first batch runs here.
                one(first)
                type(self).warm = True
        list(self.pool.map(one, batches))  # list(): a failed batch raises here
        return out

    def batches(self, texts: list[str]) -> Iterator[Batch]:
        """The texts tokenized and grouped by length, each group padded to its longest."""
        encoded = self.tokenizer.encode_batch([t.strip() for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i].ids))
        groups: list[list[int]] = []
        for i in order:
            if groups and len(encoded[i].ids) * (len(groups[-1]) + 1) <= self.tokens:
                groups[-1].append(i)
            else:
                groups.append([i])
        for rows in groups:
            longest = len(encoded[rows[-1]].ids)  # rows are sorted
            width = max(longest, min(-(-longest // self.ROUND) * self.ROUND, self.longest))
            feed = {name: np.zeros((len(rows), width), dtype=np.int64) for name in INPUTS}
            feed["input_ids"][:] = self.pad
            for r, i in enumerate(rows):
                e = encoded[i]
                feed["input_ids"][r, : len(e.ids)] = e.ids
                feed["attention_mask"][r, : len(e.ids)] = e.attention_mask
                feed["token_type_ids"][r, : len(e.ids)] = e.type_ids
            yield rows, feed

    def vectors(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class OnnxEncoder(Encoder):
    """The export in onnxruntime, float32.

    By default one session, run by ``threads`` callers at once, each on one core: this small
    model keeps a core busier on one short batch than intra-op threads keep two on a long one
    (on AVX-512: 50 chunks/s against 32 for one two-thread session in batches of 8). With
    ``intra_op``, one caller and the session's threads share batches ``threads`` times larger.
    """

    def __init__(self, folder: Path, threads: int, intra_op: bool = False) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads) if intra_op else 1
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )
        self.inputs = [i.name for i in self.session.get_inputs()]
        width = self.session.get_outputs()[0].shape[-1]
        super().__init__(folder, width, self.TOKENS * (max(1, threads) if intra_op else 1))
        self.pool = ThreadPoolExecutor(1 if intra_op else max(1, threads), "onnx")

    def vectors(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        (vectors,) = self.session.run(None, {k: feed[k] for k in self.inputs})
        return vectors


class OpenVinoEncoder(Encoder):
    """The export compiled by OpenVINO for this CPU, ``threads`` single-core streams, each
    batch run start to end by one caller on a request of its own, in float32 or, with
    ``bf16``, in bfloat16. bfloat16 is refused where the CPU lacks it natively (OpenVINO would
    compute in float32, as onnxruntime does); OpenVINO's own failures come out as
    ModelUnavailableError, as its absence does.

    Not OpenVINO's AsyncInferQueue: on one CI machine its callbacks wrote some single-text
    batches' vectors into other texts' rows (cosine 0.42 to what sentence-transformers gives;
    never seen here). A caller that runs its own request and copies the output before the
    request is free again leaves no callback or user data to mismatch."""

    # OpenVINO keeps kernels and buffers per input shape: widths rounded up to 16 tokens
    # hold an ingest's shapes to a few dozen (2,000 chunks: 473 MB RSS against 1,117 at
    # exact widths, and 8% faster; the padding is masked, the vectors the same).
    ROUND = 16

    def __init__(self, folder: Path, threads: int, bf16: bool = False) -> None:
        try:
            import openvino
        except ImportError:
            raise ModelUnavailableError("OpenVINO is not installed") from None
        streams = str(max(1, threads))
        config = {"NUM_STREAMS": streams, "INFERENCE_NUM_THREADS": streams}
        config["INFERENCE_PRECISION_HINT"] = "bf16" if bf16 else "f32"
        try:
            core = openvino.Core()
            if bf16 and "BF16" not in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES"):
                raise ModelUnavailableError("this CPU has no native bfloat16")
            # Compiling can fail where its kernels for this CPU cannot take the graph.
            self.compiled = core.compile_model(str(folder / "model.onnx"), "CPU", config)
            self.free: queue.SimpleQueue = queue.SimpleQueue()  # requests no caller holds
            for _ in range(max(1, threads)):
                self.free.put(self.compiled.create_infer_request())
        except (RuntimeError, OSError) as e:
            raise ModelUnavailableError(f"OpenVINO cannot run the export: {e}") from None
        self.inputs = [i.get_any_name() for i in self.compiled.inputs]
        self.pool = ThreadPoolExecutor(max(1, threads), "openvino")
        super().__init__(folder, self.compiled.outputs[0].get_partial_shape()[-1].get_length())

    def vectors(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        request = self.free.get()
        try:  # infer() waits with the interpreter released and returns a copy
            return request.infer({k: feed[k] for k in self.inputs})[0]
        except RuntimeError as e:
            raise ModelUnavailableError(f"OpenVINO failed to embed: {e}") from None
        finally:
            self.free.put(request)

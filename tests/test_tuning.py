"""The embedding path chosen per CPU (issue #37): measured once, recorded, read by ingest.
The models' own agreement across paths is checked in test_startup (one model load)."""

from __future__ import annotations

import numpy as np
import pytest

from qa.config import load_settings
from qa.errors import ModelUnavailableError
from qa.index.store import Store
from qa.models import layouts, tuning
from qa.models.embeddings import LazyEmbeddings
from qa.models.layouts import Layout
from qa.models.tuning import EmbeddingPath


def _settings(tmp_path):
    return load_settings({"cache_dir": tmp_path, "index": tmp_path / "index", "threads": 2}, {})


def test_the_fastest_path_is_recorded_for_this_cpu_and_read_by_ingest(tmp_path, monkeypatch):
    settings = _settings(tmp_path)
    assert tuning.recorded(settings) == tuning.DEFAULT  # nothing measured yet
    assert "not measured" in tuning.describe(settings)

    # A clock that each embedding moves on by what its path costs: no real timing. The
    # fastest path's vectors stray from the others': it is not timed, so not chosen.
    cost = {"per-core": 3.0, "intra-op": 1.0, "torch": 2.0, "openvino-f32": 1.5}
    cost["openvino-bf16"] = 0.5
    now = [0.0]

    def embed(path: EmbeddingPath, texts: list[str]) -> np.ndarray:
        now[0] += cost[path] * len(texts)
        vectors = np.tile([0.6, 0.8], (len(texts), 1))
        return vectors[:, ::-1] if path == EmbeddingPath.OPENVINO_BF16 else vectors

    seconds = tuning.measure(embed, ["a", "b"], clock=lambda: now[0])
    assert seconds == {"per-core": 6.0, "intra-op": 2.0, "torch": 4.0, "openvino-f32": 3.0}
    # Vectors that are not numbers stray too; a path that cannot run here is skipped.

    def broken(path: EmbeddingPath, texts: list[str]) -> np.ndarray:
        if path == EmbeddingPath.TORCH:
            raise ModelUnavailableError("not here")
        vectors = np.tile([0.6, 0.8], (len(texts), 1))
        return vectors * np.nan if path == EmbeddingPath.INTRA_OP else vectors

    timed = tuning.measure(broken, ["a"], clock=lambda: now[0])
    assert set(timed) == {"per-core", "openvino-f32", "openvino-bf16"}
    # A path whose vectors stray in a timed run, not the first, is not chosen either.
    calls = {"per-core": 0, "intra-op": 0}

    def flaky(path: EmbeddingPath, texts: list[str]) -> np.ndarray:
        calls[path] += 1
        vectors = np.array([[0.6, 0.8], [0.8, 0.6]])
        return vectors[::-1] if path == EmbeddingPath.INTRA_OP and calls[path] == 3 else vectors

    assert tuning.measure(flaky, ["a", "b"], list(calls), clock=lambda: now[0]).keys() == {
        "per-core"
    }
    # Only the paths this machine has are timed.
    paths = [EmbeddingPath.PER_CORE, EmbeddingPath.TORCH]
    assert tuning.measure(embed, ["a"], paths, clock=lambda: now[0]).keys() == set(paths)

    monkeypatch.setattr(LazyEmbeddings, "prepare", lambda self: None)
    monkeypatch.setattr(LazyEmbeddings, "exported", lambda self, intra_op=False: object())
    monkeypatch.setattr(LazyEmbeddings, "openvino", lambda self, bf16=False: None)
    monkeypatch.setattr(tuning, "measure", lambda embed, texts, paths: seconds)
    record = tuning.tune(settings)
    assert record["embedding_path"] == "intra-op" == tuning.recorded(settings)
    assert tuning.describe(settings) == "intra-op (measured fastest on this CPU)"
    # The index's store embeds its documents by the record.
    assert Store(settings, create=True).embeddings.embedding_path == EmbeddingPath.INTRA_OP

    # Another CPU, thread count or model measures again; a damaged record is no choice.
    monkeypatch.setattr(tuning, "cpu", lambda: ("Another CPU", "sse2"))
    assert tuning.recorded(settings) == tuning.DEFAULT
    monkeypatch.undo()
    assert tuning.recorded(settings.with_overrides(threads=1)) == tuning.DEFAULT
    tuning.record_of(settings).write_text('{"embedding_path": "gpu"}')
    assert tuning.recorded(settings) == tuning.DEFAULT
    assert "not measured" in tuning.describe(settings)


def test_without_an_onnx_export_torch_is_recorded_untimed(tmp_path, monkeypatch):
    settings = _settings(tmp_path)
    monkeypatch.setattr(LazyEmbeddings, "prepare", lambda self: None)
    monkeypatch.setattr(LazyEmbeddings, "exported", lambda self, intra_op=False: None)
    monkeypatch.setattr(tuning, "measure", lambda embed, texts, paths: pytest.fail("timed"))
    assert tuning.tune(settings)["embedding_path"] == "torch" == tuning.recorded(settings)


@pytest.mark.parametrize("garbled", ["", "{", "[]"])
def test_an_unreadable_record_falls_back_to_the_default(tmp_path, garbled):
    settings = _settings(tmp_path)
    tuning.record_of(settings).parent.mkdir(parents=True)
    tuning.record_of(settings).write_text(garbled)
    assert tuning.recorded(settings) == tuning.DEFAULT


def test_the_faster_weight_layout_is_recorded_and_the_model_loads_in_it(tmp_path, monkeypatch):
    settings = _settings(tmp_path).with_overrides(llm="gguf", llm_path=str(tmp_path / "m.gguf"))
    assert layouts.layout(settings) == layouts.LAYOUT_DEFAULT == Layout.REPACKED
    assert "not measured" in layouts.describe_layout(settings)

    # Each layout's model costs what a virtual clock says; each is closed once timed.
    cost, now, closed = {Layout.REPACKED: 3.0, Layout.STORED: 2.0}, [0.0], []

    class Model:
        def __init__(self, held: Layout) -> None:
            self.held = held

        def close(self) -> None:
            closed.append(self.held)

    def run(model: Model) -> None:
        now[0] += cost[model.held]

    seconds = layouts.measure_layouts(Model, run, clock=lambda: now[0])
    assert seconds == {"repacked": 3.0, "as-stored": 2.0} and closed == list(Layout)

    # The settings' GGUF is what is loaded, at their thread count, in the layout asked for.
    loads = []
    monkeypatch.setattr("qa.models.local.load_llama", lambda *args: loads.append(args))
    monkeypatch.setattr(layouts, "measure_layouts", lambda load: load(Layout.STORED) or seconds)
    assert layouts.tune_layout(settings)["layout"] == "as-stored"
    assert loads == [(str(tmp_path / "m.gguf"), 1024, 2, Layout.STORED)]
    assert layouts.layout(settings) == Layout.STORED
    assert layouts.describe_layout(settings) == "as-stored (measured fastest on this CPU)"
    # A server's model has no weights here; another thread count measures again.
    served = settings.with_overrides(llm="openai")
    assert layouts.tune_layout(served) is None and layouts.layout(served) is None
    assert "server" in layouts.describe_layout(served)
    assert layouts.layout(settings.with_overrides(threads=1)) == Layout.REPACKED
    # The bundled model is one record whether its name is given or left to the default.
    bundled = _settings(tmp_path)
    named = bundled.with_overrides(llm_model="qwen2.5-coder-1.5b")
    assert layouts.layout_record_of(bundled) == layouts.layout_record_of(named)
    assert layouts.layout_record_of(bundled) != layouts.layout_record_of(settings)


@pytest.mark.slow
def test_a_model_loads_as_stored_without_changing_the_library_defaults(tmp_path):
    import llama_cpp

    from qa.models.bundled import DEFAULT_BUNDLED, bundled_path
    from qa.models.local import load_llama

    path = bundled_path(DEFAULT_BUNDLED, load_settings(environ={}).cache_dir)
    llama = load_llama(str(path), 256, 1, Layout.STORED)
    try:
        assert llama.model_params.use_extra_bufts is False
        assert llama.tokenize(b"x")  # loaded and usable
    finally:
        llama.close()
    assert llama_cpp.llama_model_default_params().use_extra_bufts is True
    # A file it cannot load is one clear error, and the defaults are back all the same.
    (bad := tmp_path / "bad.gguf").write_bytes(b"not a model")
    with pytest.raises(ModelUnavailableError):
        load_llama(str(bad), 256, 1, Layout.STORED)
    assert llama_cpp.llama_model_default_params().use_extra_bufts is True


def test_openvino_is_offered_only_where_it_runs(tmp_path, monkeypatch):
    """OpenVINO's bfloat16 is refused on a CPU without it natively (it would compute in
    float32, as onnxruntime does), before anything is compiled; documents recorded for an
    OpenVINO path that cannot run here embed by onnxruntime."""
    import openvino

    from qa.models import embeddings as module
    from qa.models.encoders import OpenVinoEncoder

    monkeypatch.setattr(openvino.Core, "get_property", lambda self, device, name: ["FP32"])
    monkeypatch.setattr(openvino.Core, "compile_model", lambda *a: pytest.fail("compiled"))
    with pytest.raises(ModelUnavailableError, match="no native bfloat16"):
        OpenVinoEncoder(tmp_path, 2, bf16=True)

    class Onnx:
        def encode(self, texts: list[str]) -> np.ndarray:
            return np.ones((len(texts), 2))

    model = LazyEmbeddings("minilm", tmp_path, 2)
    monkeypatch.setattr(LazyEmbeddings, "_folder", lambda self: tmp_path)
    monkeypatch.setattr(LazyEmbeddings, "exported", lambda self, intra_op=False: Onnx())
    monkeypatch.setattr(module, "_openvino", lambda folder, threads, bf16: None)
    assert model.embed_with(EmbeddingPath.OPENVINO_BF16, ["a", "b"]).shape == (2, 2)
    assert model.embed_with(EmbeddingPath.OPENVINO_F32, ["a"]).shape == (1, 2)

"""The embedding path chosen per CPU (issue #37): measured once, recorded, read by ingest.
The models' own agreement across paths is checked in test_startup (one model load)."""

from __future__ import annotations

from functools import partial

import pytest

from qa.config import load_settings
from qa.models import tuning
from qa.models.embeddings import LazyEmbeddings, load_embeddings


def test_the_fastest_path_is_recorded_for_this_cpu_and_read_for_documents(tmp_path, monkeypatch):
    settings = load_settings({"cache_dir": tmp_path}, environ={})
    assert tuning.recorded(settings) == tuning.DEFAULT  # nothing measured yet

    # A clock that each embedding moves on by what its path costs: no real timing.
    cost, now = {"per-core": 3.0, "intra-op": 1.0, "torch": 2.0}, [0.0]

    def embed(path: str, texts: list[str]) -> None:
        now[0] += cost[path] * len(texts)

    seconds = tuning.measure(embed, ["a", "b"], clock=lambda: now[0])
    assert seconds == {"per-core": 6.0, "intra-op": 2.0, "torch": 4.0}

    monkeypatch.setattr(LazyEmbeddings, "_torch", lambda self: None)
    monkeypatch.setattr(tuning, "measure", lambda embed, texts: seconds)
    record = tuning.tune(settings)
    assert record["embedding_path"] == "intra-op" == tuning.recorded(settings)
    documents = load_embeddings("minilm", tmp_path, 2, partial(tuning.recorded, settings))
    assert documents.path == "intra-op"

    # Another CPU, thread count or model measures again; a damaged record is no choice.
    monkeypatch.setattr(tuning, "cpu", lambda: ("Another CPU", "sse2"))
    assert tuning.recorded(settings) == tuning.DEFAULT
    monkeypatch.undo()
    assert tuning.recorded(settings.with_overrides(threads=1)) == tuning.DEFAULT
    tuning.record_of(settings).write_text('{"embedding_path": "gpu"}')
    assert tuning.recorded(settings) == tuning.DEFAULT


@pytest.mark.parametrize("garbled", ["", "{", "[]"])
def test_an_unreadable_record_falls_back_to_the_default(tmp_path, garbled):
    settings = load_settings({"cache_dir": tmp_path}, environ={})
    tuning.record_of(settings).parent.mkdir(parents=True)
    tuning.record_of(settings).write_text(garbled)
    assert tuning.recorded(settings) == tuning.DEFAULT

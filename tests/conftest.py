"""Every test runs in its own temp dir with its own index; models are the real bundled ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "corpus" / "newsweek-iran-border-defense.txt"


@pytest.fixture(scope="session", autouse=True)
def own_cache(tmp_path_factory: pytest.TempPathFactory):
    """A cache folder for the tests (prompt-cache states, ONNX exports, stored signals), so
    that the user's own is never written; the assembled bundled model is linked, not copied."""
    from qa.config import load_settings
    from qa.models.bundled import DEFAULT_BUNDLED, bundled_path

    real = bundled_path(DEFAULT_BUNDLED, load_settings(environ={}).cache_dir)
    home = tmp_path_factory.mktemp("cache")
    (home / "docqa").mkdir()
    for item in (real, real.with_suffix(".sha256")):
        (home / "docqa" / item.name).symlink_to(item)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(home))
        yield home / "docqa"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in tmp_path: relative paths (corpus/, .qa_index) land there, not in the repo."""
    monkeypatch.chdir(tmp_path)
    for name in (
        "QA_INDEX",
        "QA_CORPUS",
        "QA_CHROMA_URL",
        "QA_COLLECTION",
        "QA_LLM",
        "QA_LLM_MODEL",
        "QA_EMBED_MODEL",
        "QA_K",
        "QA_PASSAGE_CHARS",
        "QA_GROUNDING",
        "QA_JUDGE",
        "QA_DECISION",
        "QA_MIN_CONFIDENCE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


@pytest.fixture
def article_corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(ARTICLE, folder)
    return folder


@pytest.fixture(scope="session")
def article_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The article indexed once for the whole session (read-only for tests)."""
    from qa.config import load_settings
    from qa.index.ingest import ingest

    base = tmp_path_factory.mktemp("article")
    shutil.copytree(ARTICLE.parent, base / "corpus")
    settings = load_settings({"index": base / "index"}, environ={})
    import os

    cwd = os.getcwd()
    os.chdir(base)  # sources are named relative to where qa runs
    try:
        ingest([base / "corpus"], settings)
    finally:
        os.chdir(cwd)
    return base


@pytest.fixture(scope="session")
def answerer(article_index: Path):
    """The real chain on the article: real Chroma, MiniLM and the default bundled LLM."""
    from qa.answering.chain import Answerer
    from qa.config import load_settings

    return Answerer(load_settings({"index": article_index / "index"}, environ={}))

"""docqa: questions answered from a folder of documents, with citations to the exact passages.

The pipeline reads as the packages do: ``documents`` -> ``index`` -> ``retrieval`` ->
``answering`` -> ``grounding``; ``models`` beside them; ``evaluation`` measures it and
``interfaces`` present it (the ``qa`` command, the chat page, the HTTP API).

What is public is named here; everything else is internal and may change::

    from qa import Answerer, load_settings
    answer = Answerer(load_settings()).ask("Who founded the company?")

Names load on first use, so ``import qa`` stays cheap for a command that needs none of them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = ["Answer", "Answerer", "Citation", "QAError", "Settings", "ingest", "load_settings"]

_HOMES = {
    "Answer": "qa.answering.answer",
    "Citation": "qa.answering.answer",
    "Answerer": "qa.answering.chain",
    "QAError": "qa.errors",
    "Settings": "qa.config",
    "load_settings": "qa.config",
    "ingest": "qa.index.ingest",
}

if TYPE_CHECKING:
    from qa.answering.answer import Answer, Citation
    from qa.answering.chain import Answerer
    from qa.config import Settings, load_settings
    from qa.errors import QAError
    from qa.index.ingest import ingest


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)

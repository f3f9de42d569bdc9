"""The answerer of a one-off `qa ask`, started for the shortest path to its answer.

A one-off ask pays for everything a server pays once: Python's imports, the index's
opening, the model's load. These overlap here: the model is read from disk on a thread of
its own while the answer chain is imported and the index opened, the queries' ONNX session
opens on another while Chroma is imported, and what is loaded is then kept out of the
garbage collector's way.
"""

from __future__ import annotations

import gc
import logging
import threading
from typing import TYPE_CHECKING

from qa.config import Settings

if TYPE_CHECKING:
    from qa.answering.chain import Answerer

log = logging.getLogger(__name__)


def answerer_for(settings: Settings) -> Answerer:
    """An ``Answerer`` on ``settings``, its model loading from the start (beside the chain's
    imports: 0.7 s on 2 cores)."""
    from qa.index.store import require_index
    from qa.models.local import start_loading

    require_index(settings)  # before the model loads: it mutes the process meanwhile
    loading = start_loading(settings)
    # What is loaded from here (180,000 objects: modules, models, the index) lives as long
    # as the process: the collector need not walk it while it is made, nor later, in its
    # full passes during the answer and at exit (0.2 s and 0.4 s of a 3 s one-off ask).
    collecting = gc.isenabled()
    gc.disable()
    try:
        from qa.answering.chain import Answerer

        _open_query_session(settings)
        answerer = Answerer(settings)
    except BaseException:
        loading.result()  # an error is shown once llama.cpp no longer mutes the process
        raise
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
    return answerer


def _open_query_session(settings: Settings) -> None:
    """Open the ONNX session that embeds the question, on a thread of its own: onnxruntime
    builds it outside the interpreter's lock, beside Chroma's import (Python, 0.3-0.5 s),
    where it used to follow it (0.15 s). The index's own call gets this session."""
    from qa.models.embeddings import load_embeddings

    def run() -> None:
        try:
            load_embeddings(settings.embed_model, settings.cache_dir, settings.threads).exported()
        except Exception as e:  # the index's own call raises it again, where it is shown
            log.debug("query session not opened ahead: %s", e)

    threading.Thread(target=run, name="qa-query-session", daemon=True).start()

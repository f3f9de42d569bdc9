"""The answerer of a one-off `qa ask`, started for the shortest path to its answer.

A one-off ask pays for everything a server pays once: Python's imports, the index's
opening, the model's load. These overlap here: the model is read from disk on a thread of
its own while the answer chain is imported and the index opened, and what is loaded is then
kept out of the garbage collector's way.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

from qa.config import Settings

if TYPE_CHECKING:
    from qa.answering.chain import Answerer


def answerer_for(settings: Settings) -> Answerer:
    """An ``Answerer`` on ``settings``, its model loading from the start (beside the chain's
    imports: 0.7 s on 2 cores)."""
    from qa.index.store import require_index
    from qa.models.local import start_loading

    require_index(settings)  # before the model loads: it mutes the process meanwhile
    loading = start_loading(settings)
    try:
        from qa.answering.chain import Answerer

        answerer = Answerer(settings)
    except BaseException:
        loading.result()  # an error is shown once llama.cpp no longer mutes the process
        raise
    # What is loaded by now (180,000 objects: modules, models, the index) lives as long as
    # the process: the collector's full passes, during the answer and at exit, need not walk
    # it again (0.2 s and 0.4 s of a 3 s one-off ask on 2 cores).
    gc.freeze()
    return answerer

"""The answer chain, as plain calls passing typed values: the question made to stand alone
(``Asked``) -> ``retrieve`` (``Evidence``) -> ``generate`` (the model's ``Draft``, through the
LangChain chat model) -> ``check`` (``Grounded``) -> ``Answer``, each step timed by ``ask``.

The same chain serves ``qa ask``, ``qa eval`` and the chat page. With grounding off it is
the plain chain (vector top-k chunks, one prompt, citations taken as the model gives them),
kept so that ``qa eval --compare`` can show what grounding buys.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.output_parsers import StrOutputParser

from qa.answering.answer import Answer, cite
from qa.answering.format import is_decline, marker, renumbered
from qa.answering.prompts import PREFIX, PROMPT
from qa.config import Settings
from qa.errors import UsageError
from qa.grounding.claims import Draft, claims
from qa.grounding.decision import load_decision
from qa.grounding.ground import Checks, Grounded, Mode, ground
from qa.grounding.judge import judge_with
from qa.grounding.support import even
from qa.models.llms import LlamaCppChat, load_llm, logprobs_of
from qa.retrieval.followups import REWRITE, Asked, standalone
from qa.retrieval.retrieve import Evidence, HybridRetriever, Passage, select
from qa.sentences import as_line

if TYPE_CHECKING:
    from qa.index.store import Store

MAX_QUESTION_CHARS = 2000


class _Tokens(BaseCallbackHandler):
    """Forwards each generated token to a function (the CLI's stdout, the UI's stream)."""

    def __init__(self, on_token: Callable[[str], None]) -> None:
        self.on_token = on_token

    def on_llm_new_token(self, token: str, **_: Any) -> None:
        self.on_token(token)


@contextmanager
def timed(timings: dict[str, float], name: str) -> Iterator[None]:
    """Time the block into ``timings[name]`` (seconds), also when it raises."""
    began = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(time.perf_counter() - began, 3)


def check_question(question: str) -> str:
    """The question as asked of the model: control characters dropped, spaces collapsed;
    ``UsageError`` where it is empty, too long, or holds bytes that are not UTF-8 (Python
    reads those from a shell as lone surrogates, which would be dropped unseen)."""
    if any("\udc80" <= ch <= "\udcff" for ch in question):
        raise UsageError("the question is not valid UTF-8")
    cleaned = "".join(ch for ch in question if ch.isprintable() or ch in "\t\n").strip()
    if not cleaned:
        raise UsageError("the question is empty")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise UsageError(f"the question is longer than {MAX_QUESTION_CHARS} characters")
    return " ".join(cleaned.split())


def numbered(evidence: Evidence) -> str:
    """The passages as the prompt shows them: "[n] (section) text", one a line; a heading or a
    definition list's term is set off from what it names (``qa.text.as_line``)."""

    def text(p: Passage) -> str:
        return " ".join((as_line(p.sentences) if p.sentences else p.text).split())

    return "\n".join(
        f"{marker(p.n)} {f'({p.section}) ' if p.section else ''}{text(p)}"
        for p in evidence.passages
    )


class Answerer:
    """Loads the store, retriever and models once; answers many questions."""

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        llm: BaseChatModel | None = None,
        record: bool = False,
    ) -> None:
        """``record``: read every signal of every answer (for calibration), not only those
        that can change its decision."""
        from qa.index.store import Store, require_index

        if store is None:
            require_index(settings)  # before the model loads: it mutes the process meanwhile
        self.settings = settings
        self.record = record
        # Whether a source's file is still there: a watcher (qa serve --watch) sets it, so a
        # file removed is not cited while its sync waits for the folder to be quiet.
        self.present: Callable[[str], bool] = lambda source: True
        # The model loads (and reads its cached prompt prefix) in the background while the
        # index opens: a one-off `qa ask` waits for the slower of the two, not for both.
        self._llm: Future = ThreadPoolExecutor(1, "qa-llm").submit(self._load_llm, llm)
        with self._loaded_on_error():
            self.store = store or Store(settings)
            self.embed = self.store.embeddings
            self.refresh()
            self.decision = load_decision(settings)

    @contextmanager
    def _loaded_on_error(self) -> Iterator[None]:
        """llama-cpp-python mutes the whole process's stdout and stderr while a model loads:
        an error is raised only once that is over, so that its message can be seen."""
        try:
            yield
        except BaseException:
            wait([self._llm])
            raise

    def _load_llm(self, llm: BaseChatModel | None) -> BaseChatModel:
        llm = llm or load_llm(self.settings)
        if isinstance(llm, LlamaCppChat):
            llm.prime(PREFIX, self.settings.cache_dir)
        return llm

    @property
    def llm(self) -> BaseChatModel:
        return self._llm.result()

    def refresh(self) -> None:
        """Count the index's chunks afresh, for idf (after documents were added)."""
        self.retriever = HybridRetriever(store=self.store, k=2 * self.settings.k)

    def kept(self, chunk) -> bool:
        """Whether a chunk found may be read: its file was not removed meanwhile."""
        return self.present(chunk.metadata["source"])

    def retrieve(self, question: str) -> Evidence:
        """The numbered passages for ``question`` (as it stands alone)."""
        k = self.settings.k
        if self.settings.retrieval == "dense":  # vector top-k chunks as they are
            hits = [hit for hit in self.store.search(question, k) if self.kept(hit[0])]
            return Evidence([Passage.of_chunk(d, n) for n, (d, _) in enumerate(hits, 1)])
        hits = [d for d in self.retriever.invoke(question) if self.kept(d)]
        lexical, idf = self.retriever.lexical, self.retriever.idf
        return select(question, hits, lexical, idf, self.embed, k, self.settings.passage_chars)

    def generate(
        self, evidence: Evidence, question: str, on_token: Callable[[str], None] | None = None
    ) -> Draft:
        """The model's draft answer from the passages; ``on_token`` sees it as it comes."""
        if not evidence.passages:
            return Draft("")
        config = {"callbacks": [_Tokens(on_token)]} if on_token else {}
        said = (PROMPT | self.llm).invoke(
            {"passages": numbered(evidence), "question": question}, config=config
        )
        tokens = tuple((t["token"], t["logprob"]) for t in logprobs_of(said))
        return Draft(str(said.content), tokens)

    def check(self, draft: Draft, evidence: Evidence, asked: Asked) -> Grounded:
        """The draft checked against the passages (or, with grounding off, as it is)."""
        if self.settings.grounding:
            judge = judge_with(self.llm, self.settings.cache_dir) if self.settings.judge else None
            threshold = self.settings.min_confidence or (
                self.decision.threshold if self.decision else 0.5
            )
            # Terms weigh by their idf in the lexical index, which dense retrieval does not read.
            dense = self.settings.retrieval == "dense"
            weight = even if dense else self.retriever.idf
            checks = Checks(self.embed, judge, self.decision, threshold, self.record, weight)
            return ground(draft, evidence, asked, checks)
        # The plain chain: the model's words as they are, whole passages as citations, its
        # markers numbered as the citations are (1 for the first passage cited, and so on).
        found = claims(draft.text)
        cited = sorted({n for c in found for n in c.cited if 0 < n <= len(evidence.passages)})
        support = [(p, p.whole) for p in (evidence.passages[n - 1] for n in cited)]
        mode = Mode.DECLINED if is_decline(draft.text) else Mode.GENERATED
        text = renumbered(draft.text.strip(), {n: i for i, n in enumerate(cited, 1)})
        return Grounded(text, mode, draft.text, support, len(found), len(found))

    def _standalone(self, question: str, history: list[str]) -> Asked:
        if not history or self.settings.followups != "llm":
            return standalone(question, history)
        rewritten = (REWRITE | self.llm.bind(max_tokens=60) | StrOutputParser()).invoke(
            {"history": "\n".join(history[-3:]), "question": question}
        )
        return Asked(" ".join(rewritten.split()) or question)

    def warm_up(self) -> None:
        """Load the models and fill the KV cache with the fixed prompt prefix."""
        self.embed.embed_query("warm up")
        if isinstance(self.llm, LlamaCppChat):
            self.llm.prime(PREFIX)  # back to the prefix alone, as between questions
        else:
            self.llm.invoke(PREFIX, max_tokens=1)

    def ask(
        self,
        question: str,
        on_token: Callable[[str], None] | None = None,
        history: list[str] | None = None,
    ) -> Answer:
        """Answer one question; ``on_token`` sees the model's draft as it is generated;
        ``history`` holds earlier questions of the conversation, oldest first."""
        began = time.perf_counter()
        timings: dict[str, float] = {}
        with self._loaded_on_error():
            question = check_question(question)
            asked = self._standalone(question, history or [])
            with timed(timings, "retrieve_s"):
                evidence = self.retrieve(asked.full)
            with timed(timings, "generate_s"):
                draft = self.generate(evidence, asked.full, on_token)
            with timed(timings, "ground_s"):
                grounded = self.check(draft, evidence, asked)
        timings["total_s"] = round(time.perf_counter() - began, 3)
        declined = grounded.mode == Mode.DECLINED
        return Answer(
            question=question,
            answer=grounded.answer,
            declined=declined,
            citations=[cite(n, p, s) for n, (p, s) in enumerate(grounded.support, 1)],
            timings=timings,
            grounding=grounded,
            passages=[cite(p.n, p) for p in evidence.passages] if declined else [],
            standalone=asked.full if asked.full != question else "",
        )

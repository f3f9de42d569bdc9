"""`qa generate`: a question set made from an index's own documents, with no labels given.

Sentences are drawn spread over documents and sections (seeded); in each, an answer span is
chosen (``qa.evaluation.spans``) and the answering model writes a question whose answer it
is. A question is kept when its answer is verbatim in the indexed text at the recorded
offsets, absent from the question, the question is one (ends with "?", not too long), it was
not asked already, and retrieval finds the answer's chunk for it. From kept questions,
unanswerable ones that look answerable are made and checked against the whole index
(``qa.evaluation.unanswerable``). Every rejection is counted by its reason.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from langchain_core.prompts import ChatPromptTemplate

from qa.answering.prompts import PREFIX
from qa.config import Settings
from qa.errors import UsageError
from qa.evaluation import spans
from qa.evaluation.draw import Sentence, sentences_of, spread, verbatim
from qa.evaluation.evaluate import matches
from qa.evaluation.prompts import ANSWER, ANSWER_TOKENS, MAX_TOKENS, REWORD, STOP, WRITE
from qa.evaluation.unanswerable import NOT_APPLICABLE, Change, Pools, unanswerable
from qa.index.lexical import Lexical

UNANSWERABLE_SHARE = 1 / 3  # SQuAD 2.0's dev set: about half; a third keeps most answerable
REWORD_SHARE = 0.5  # questions the model is asked to word away from the sentence
PASSES = 8  # times a sentence may be drawn (another span each time), for small indexes
POOL_SENTENCES = 5000  # sentences read for words to swap in


@dataclass
class Generated:
    """The questions made, and what it cost."""

    questions: list[dict] = field(default_factory=list)
    rejected: Counter = field(default_factory=Counter)  # after the model wrote the question
    skipped: Counter = field(default_factory=Counter)  # before: no model time spent
    llm_calls: int = 0
    llm_s: float = 0.0
    seconds: float = 0.0
    cpu_s: float = 0.0  # this process's CPU time: the machine's load does not inflate it

    @property
    def answerable(self) -> int:
        return sum(q["answerable"] for q in self.questions)


def generated_path(settings: Settings) -> Path:
    """Where ``qa generate`` writes by default, and ``qa calibrate --generated`` reads."""
    return settings.index / f"generated-{settings.collection}.yaml"


class Generator:
    """Makes questions from one index with the answering chain's models (an ``Answerer``)."""

    def __init__(self, answerer, seed: int = 0, round_trip: bool = True) -> None:
        self.answerer = answerer
        self.round_trip = round_trip
        self.lexical: Lexical = answerer.store.lexical
        self.rng = random.Random(seed)
        self.out = Generated()
        self.taken: dict[tuple[str, int], set[str]] = defaultdict(set)
        self.asked: set[str] = set()
        self.model = str(getattr(answerer.llm, "model_name", "") or answerer.settings.llm)
        self.df = lru_cache(maxsize=None)(self.lexical.df)
        self.chunks = self.lexical.count()

    def reject(self, reason: str) -> None:
        self.out.rejected[reason] += 1

    def skip(self, reason: str) -> None:
        self.out.skipped[reason] += 1

    def call(self, prompt: ChatPromptTemplate, tokens: int, **values: str) -> str:
        """The model's reply to ``prompt``, timed."""
        began = time.perf_counter()
        said = (prompt | self.answerer.llm.bind(max_tokens=tokens, stop=STOP)).invoke(values)
        self.out.llm_s += time.perf_counter() - began
        self.out.llm_calls += 1
        return str(said.content)

    def write(self, sentence: Sentence, answer: str, reword: bool) -> str:
        """The model's question for ``answer`` in ``sentence``."""
        where = f" (from {sentence.section})" if sentence.section else ""
        values = {"where": where, "sentence": sentence.text, "answer": answer}
        return spans.question_text(
            self.call(WRITE, MAX_TOKENS, **values, reword=REWORD if reword else "")
        )

    def answerable(self, s: Sentence, n: int) -> dict | None:
        """A checked question about ``s``, or None (the reason counted)."""
        found = spans.targets(s.text)
        target = spans.choose(
            spans.specific(found, self.df, self.chunks), self.rng, self.taken[(s.source, s.start)]
        )
        if target is None:
            self.skip("sentence: no specific answer span left" if found else "sentence: no span")
            return None
        self.taken[(s.source, s.start)].add(target.text.lower())
        start, end = s.start + target.start, s.start + target.end
        if not verbatim(self.lexical, s.source, start, end, target.text):
            self.skip("answer not verbatim at its offsets")
            return None
        reword = self.rng.random() < REWORD_SHARE
        q = self.write(s, target.text, reword)
        if why := spans.not_a_question(q):
            self.reject(why)
        elif not (asked := spans.expected(q, target)):
            self.reject("answer in the question")
        elif q.lower() in self.asked:
            self.reject("asked already")
        elif not self.retrieved(q, s.source, start, end):
            self.reject("retrieval misses its passage")
        elif self.round_trip and not matches(
            self.call(ANSWER, ANSWER_TOKENS, sentence=s.text, question=q), [[asked]]
        ):
            self.reject("round trip: the model answers it otherwise")
        else:
            self.asked.add(q.lower())
            return {
                "id": f"g{n:03d}",
                "q": q,
                "expect": [[asked]],
                "support": s.text,
                "answerable": True,
                "group": s.source,
                "generated": True,
                "kind": str(target.kind),
                "passage": {
                    "source": s.source,
                    "section": s.section,
                    "start": s.start,
                    "end": s.start + len(s.text),
                    "answer": [start, end],
                },
                "overlap": spans.overlap(q, s.text),
                "reworded": reword,
                "model": self.model,
            }
        return None

    @contextmanager
    def primed(self) -> Iterator[None]:
        """The question prompt's fixed part in the model's KV cache meanwhile (where the
        backend keeps one), the answer prompt's again after."""
        llm, cache = self.answerer.llm, self.answerer.settings.cache_dir
        if not hasattr(llm, "prime"):
            yield
            return
        llm.prime(WRITE.format_messages(where="", sentence="-", answer="-", reword=""), cache)
        try:
            yield
        finally:
            llm.prime(PREFIX, cache)

    def retrieved(self, question: str, source: str, start: int, end: int) -> bool:
        """Whether the chain's retriever (no model) finds a chunk holding the answer."""
        hits = self.answerer.retriever.invoke(question)
        return any(
            h.metadata["source"] == source
            and h.metadata["start"] <= start
            and end <= h.metadata["end"]
            for h in hits
        )

    def unanswerable(self, item: dict, pools: Pools, made: Counter, n: int) -> dict | None:
        """An unanswerable question made from answerable ``item``: the kind made least so
        far first, the others after; None when none passes its check (the checks' reasons
        counted; a kind that does not apply to the question is no rejection)."""
        for change in sorted(Change, key=lambda c: (made[c], self.rng.random())):
            un, why = unanswerable(
                item["q"], item["support"], change, pools, self.lexical, self.rng
            )
            if un is None:
                if why not in NOT_APPLICABLE:
                    self.skip(f"unanswerable: {why}")
                continue
            if un.q.lower() in self.asked:
                self.skip("unanswerable: asked already")
                continue
            self.asked.add(un.q.lower())
            made[change] += 1
            return {
                "id": f"u{n:03d}",
                "q": un.q,
                "answerable": False,
                "group": item["group"],
                "generated": True,
                "kind": str(un.change),
                "changed": [un.was, un.now],
                "from": item["id"],
                "passage": dict(item["passage"]),
                "model": self.model,
            }
        self.skip("unanswerable: none could be made from the question")
        return None

    def run(
        self, count: int, minutes: float, tick: Callable[[Generated], None] = lambda _: None
    ) -> Generated:
        """Up to ``count`` questions (a third unanswerable) within ``minutes``; ``tick`` is
        told of each question kept."""
        began, cpu = time.monotonic(), time.process_time()
        deadline = began + minutes * 60
        found = sentences_of(self.lexical)
        if not found:
            raise UsageError("the index holds no sentences to ask about: run qa ingest first")
        with self.primed():
            self.loop(found, count, deadline, tick)
        self.out.seconds = time.monotonic() - began
        self.out.cpu_s = time.process_time() - cpu
        return self.out

    def loop(
        self, found: list[Sentence], count: int, deadline: float, tick: Callable[[Generated], None]
    ) -> None:
        """Questions until ``count`` are made, the sentences run out or time does."""
        pools = Pools()
        for s in self.rng.sample(found, min(len(found), POOL_SENTENCES)):
            pools.add(s.text)
        want_un = round(count * UNANSWERABLE_SHARE)
        want = count - want_un
        drawn = (s for _ in range(PASSES) for s in spread(found, self.rng))
        spare: list[dict] = []
        made: Counter = Counter()
        questions = self.out.questions
        while time.monotonic() < deadline:
            ans, un = self.out.answerable, len(questions) - self.out.answerable
            if ans >= want and un >= want_un:
                break
            # Unanswerable ones keep pace with answerable ones, from those not used yet.
            if spare and un < want_un and (ans >= want or un * want < ans * want_un):
                if item := self.unanswerable(spare.pop(0), pools, made, un + 1):
                    questions.append(item)
                    tick(self.out)
                continue
            if ans >= want:
                break  # no answerable question left to make an unanswerable one from
            s = next(drawn, None)
            if s is None:
                self.skip("no sentence left to ask about")
                break
            if item := self.answerable(s, ans + 1):
                questions.append(item)
                spare.append(item)
                tick(self.out)
        else:
            self.skip("time ran out")


def header(out: Generated, settings: Settings, seed: int) -> list[str]:
    """What the file's opening comment says: where the questions come from, what they cost
    and what the checks rejected."""
    n = len(out.questions)
    per = out.llm_s / out.answerable if out.answerable else 0.0
    return [
        f"Generated by `qa generate` from {settings.index} (collection {settings.collection}),"
        f" seed {seed}: {out.answerable} answerable, {n - out.answerable} unanswerable.",
        f"{out.seconds / 60:.1f} min, {out.cpu_s:.0f} CPU s; {out.llm_calls} model calls,"
        f" {out.llm_s:.0f} s ({per:.1f} s of model time per answerable question kept).",
        f"Rejected after the model wrote the question ({sum(out.rejected.values())}):",
        *(f"  {reason}: {k}" for reason, k in out.rejected.most_common()),
        f"Left out before asking the model ({sum(out.skipped.values())}):",
        *(f"  {reason}: {k}" for reason, k in out.skipped.most_common()),
    ]


def save(out: Generated, path: Path, lines: Iterable[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = yaml.safe_dump(
        out.questions, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )
    path.write_text("".join(f"# {ln}\n" for ln in lines) + "\n" + body)

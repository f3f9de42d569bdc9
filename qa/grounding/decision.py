"""The answer-or-decline decision, calibrated on labelled questions instead of hand-set.

The checks of ``qa.grounding.ground`` yield signals about the candidate answer (how much of it
its sentences hold, the judge's P(yes), how close the evidence is to the question, whether
the answer is of the kind asked); a logistic regression fitted on questions whose right
answers are known turns them into the probability that the answer is right. The answer is
given when that probability reaches the fit's threshold, chosen so that wrong answers stay
at or under a target share of those given (the risk; see ``operating_point``). A fit ships
in the package; ``qa calibrate`` fits one on a user's own questions.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from qa.answering.format import is_decline
from qa.config import Settings
from qa.errors import UsageError
from qa.grounding.claims import Candidate, Claim, Draft, Kind
from qa.grounding.kinds import gives_the_kind
from qa.index.lexical import Weight, terms
from qa.retrieval.retrieve import Evidence
from qa.text import STOPWORDS, content_words, words

# Bumped whenever a signal's meaning changes: stored signals of other versions are not reused.
VERSION = "4"
SIGNALS = (
    "rules",  # the hand-set rules would give this answer
    "quoted",  # a sentence of the documents, verbatim
    "rescued",  # claims the word rules doubt
    "refused",  # the model itself said the documents do not say
    "kind_asked",  # its evidence is of the kind asked
    "gives_kind",  # the answer itself is (1), is not (0), kind unknown (0.5)
    "share",  # least share of a claim's new words its sentence holds
    "can",  # every claim's names and numbers held, about what was asked
    "supported",  # every claim passes the word checks
    "cosine",  # least claim-to-sentence cosine
    "judge",  # least judge P(yes) of a claim (0.5 where no claim was judged)
    "coverage",  # share of the question's terms (idf) in the best passage
    "best_cosine",  # question to best sentence
    "rank",  # mean rank of the supporting passages (1 = first)
    "cited",  # share of claims whose supporting passage is one the model cited
    "claims",  # number of claims
    "new_words",  # least content words a claim adds to the question (log)
    "length",  # words in the answer (log)
    "asked_held",  # idf share of the question's terms in the supporting passages
    "rarest_missing",  # the rarest question term the supporting passages lack (its idf
    # over the question's rarest term's; 0 when none is missing)
    "restated",  # share of the answer's content words that the question already used
    "fused",  # retrieval's score of the supporting passage over the first passage's
    # The model's own certainty of its draft, where the backend gives token log-probabilities
    # (absent otherwise: a fit then reads its training mean, which moves nothing):
    "sure",  # mean log-probability of the tokens of the draft's words
    "least_sure",  # the least likely token's log-probability
    "sure_new",  # mean log-probability of the tokens of words the question did not use
)
# The signals a fit weighs: what the candidate is, the judge, the word checks, how much of
# the question its passages hold, the answer's kind, closeness of evidence, the model's least
# sure token. All are stored; on articles the fit had not seen (SQuAD dev-sample,
# leave-one-article-out) these ranked best: area under the risk-coverage curve 0.299, against
# 0.305 without the least sure token, 0.300 with all three token signals, 0.315 weighing all
# signals, and 0.330 for gradient boosting over these.
FEATURES = (
    "rules",
    "quoted",
    "rescued",
    "refused",
    "judge",
    "supported",
    "can",
    "share",
    "asked_held",
    "rarest_missing",
    "gives_kind",
    "best_cosine",
    "least_sure",
)


def judge_signal(said: list[Claim]) -> float:
    """The least judge P(yes) of the claims (0.5 where none was judged)."""
    return min((c.judged for c in said if c.judged >= 0), default=0.5)


def read_signals(
    candidate: Candidate,
    evidence: Evidence,
    question: str,
    draft: Draft,
    weight: Weight,
) -> dict[str, float]:
    """The candidate's signals, by name (``SIGNALS``); ``weight``: a term's idf."""
    said = candidate.claims
    checks = [c.best[1] for c in said if c.best]
    asked = set(terms(question))
    ranks = [p.n for p, _ in candidate.support] or [1]
    shown = {t for p, _ in candidate.support for t in terms(f"{p.section}\n{p.text}")}
    idf = {t: weight(t) for t in asked}
    rarest = max(idf.values(), default=1.0) or 1.0
    said_words = set(terms(candidate.answer))
    known = set(words(question)) | STOPWORDS  # words that say nothing new
    top = evidence.passages[0].score if evidence.passages else 0.0
    sure = {}
    if every := draft.logprobs():
        new = draft.logprobs(lambda word: word not in known) or every
        sure = {
            "sure": float(np.mean(every)),
            "least_sure": min(every),
            "sure_new": float(np.mean(new)),
        }
    return sure | {
        "rules": float(candidate.rules),
        "quoted": float(candidate.kind == Kind.QUOTED),
        "rescued": float(candidate.kind == Kind.RESCUED),
        "refused": float(not said and is_decline(draft.text)),
        "kind_asked": float(candidate.kind_asked),
        "gives_kind": gives_the_kind(question, candidate.answer),
        "share": min((c.share for c in checks), default=1.0),
        "can": float(all(c.can for c in checks)),
        "supported": float(all(c.supported for c in checks)),
        "cosine": min((c.cosine for c in checks), default=evidence.best_cosine),
        "judge": judge_signal(said),
        "coverage": evidence.coverage,
        "best_cosine": evidence.best_cosine,
        "rank": sum(ranks) / len(ranks),
        "cited": sum(c.best[0].n in c.cited for c in said if c.best) / len(said) if said else 0.0,
        "claims": float(len(said)),
        "new_words": math.log1p(
            min((len(set(terms(c.text)) - asked) for c in said), default=0)
            if said
            else len(set(content_words(candidate.answer)) - asked)
        ),
        "length": math.log1p(len(words(candidate.answer))),
        "asked_held": sum(idf[t] for t in asked & shown) / (sum(idf.values()) or 1.0),
        "rarest_missing": max((idf[t] for t in asked - shown), default=0.0) / rarest,
        "restated": len(said_words & asked) / len(said_words) if said_words else 1.0,
        "fused": max((p.score for p, _ in candidate.support), default=0.0) / top if top else 0.0,
    }


@dataclass(frozen=True)
class Decision:
    """A fitted logistic regression over standardised signals, and its operating point."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float  # answer when P(right) >= this
    about: dict = field(default_factory=dict)  # what it was fitted on, and how it measured

    def probability(self, values: dict[str, float]) -> float:
        # A signal the backend cannot give reads as the training mean: it moves nothing.
        given = [values.get(f, m) for f, m in zip(self.features, self.mean, strict=True)]
        x = (np.array(given) - self.mean) / self.scale
        return float(1 / (1 + np.exp(-(x @ np.array(self.coef) + self.intercept))))

    def heeds(self, name: str, values: dict[str, float], threshold: float) -> bool:
        """Whether signal ``name`` (a share, 0 to 1) can change the decision on ``values``:
        a costly signal is worth reading only then."""
        low, high = (self.probability({**values, name: v}) >= threshold for v in (0.0, 1.0))
        return low != high

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1) + "\n")

    @classmethod
    def load(cls, path: Path) -> Decision:
        try:
            raw = json.loads(Path(path).read_text())
            made = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})
        except (OSError, ValueError, TypeError) as e:
            raise UsageError(f"cannot read the decision in {path}: {e}") from None
        if made.about.get("version") != VERSION or set(made.features) - set(SIGNALS):
            raise UsageError(
                f"{path} was fitted on signals of another docqa version: run qa calibrate again"
            )
        return made


def shipped() -> Path:
    return Path(__file__).parents[1] / "data" / "decision.json"


def own_path(settings: Settings) -> Path:
    """Where ``qa calibrate`` keeps a decision fitted for this index and collection."""
    return settings.index / f"decision-{settings.collection}.json"


def load_decision(settings: Settings) -> Decision | None:
    """The decision answering uses: this index's own fit (``qa calibrate``), else the shipped
    one where ``calibrated`` was asked for; None when the rules decide (asked for, with no
    fit of the index's own under ``auto``, or without the judge, whose P(yes) fits weigh).
    A fit on a generated set (`qa calibrate --generated`) is used only where ``calibrated`` is
    asked for: on the article, fits on its generated questions gave 1 to 42 of 70 correct and
    cited, the rules 64 (docs/transfer.md)."""
    if settings.decision == "rules" or not settings.judge or not settings.grounding:
        return None
    if own_path(settings).is_file():
        own = Decision.load(own_path(settings))
        if settings.decision == "calibrated" or not own.about.get("generated"):
            return own
    if settings.decision == "calibrated" and shipped().is_file():
        return Decision.load(shipped())
    return None


def fit(
    x: np.ndarray,
    right: np.ndarray,
    risk: float = 0.05,
    about: dict | None = None,
    weight: np.ndarray | None = None,
    features: tuple[str, ...] = FEATURES,
    c: float = 1.0,
):
    """A decision fitted on signal rows ``x`` (in ``features`` order) labelled ``right``;
    its threshold keeps wrong answers at or under ``risk`` of those given, on this data.
    ``weight``: how much each row counts (a user's own label more than a generated one);
    ``c``: the regression's inverse regularisation."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    model = LogisticRegression(C=c, max_iter=1000)
    model.fit((x - scaler.mean_) / scale, right, sample_weight=weight)
    p = model.predict_proba((x - scaler.mean_) / scale)[:, 1]
    return Decision(
        tuple(features),
        tuple(map(float, scaler.mean_)),
        tuple(map(float, scale)),
        tuple(map(float, model.coef_[0])),
        float(model.intercept_[0]),
        operating_point(p, right, risk, weight),
        {**(about or {}), "version": VERSION},
    )


def operating_point(
    p: np.ndarray, right: np.ndarray, risk: float, weight: np.ndarray | None = None
) -> float:
    """The lowest threshold at which the answers given are wrong at most ``risk`` of the
    time (answering the most while keeping to it), each answer counted by its ``weight``;
    1.0 when none keeps to it."""
    w = np.ones(len(p)) if weight is None else np.asarray(weight, dtype=float)
    best = 1.0
    for t in sorted(set(p.tolist()), reverse=True):
        given = p >= t
        if given.any() and w[given & ~right].sum() / w[given].sum() <= risk:
            best = t
    return float(best)


def risk_coverage(p: np.ndarray, right: np.ndarray) -> list[tuple[float, float, float]]:
    """(threshold, share of questions answered, share of those answers wrong), from the
    most confident answer to all of them."""
    order = np.argsort(-p, kind="stable")
    wrong = np.cumsum(~right[order])
    n = np.arange(1, len(p) + 1)
    return [
        (float(p[order[i]]), float(n[i] / len(p)), float(wrong[i] / n[i])) for i in range(len(p))
    ]


def area(curve: list[tuple[float, float, float]]) -> float:
    """Area under the risk-coverage curve (lower is better): mean risk over coverages."""
    return float(np.mean([risk for _, _, risk in curve])) if curve else 0.0

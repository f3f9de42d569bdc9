"""A second reading by the LLM: does the sentence a claim cites answer the question the way the
claim says?

Word checks cannot see a claim that takes the wrong name from the right sentence ("who
designed the bridge?" answered with the town it was built for): every word of it is in the
sentence.
The model, asked afresh with only the sentence, the question and the claim, sees many of
them. Measured on the eval set's answers, its yes-probability ranked a right answer above a
wrong one in 94% of pairs; asked inside its own conversation it mostly agreed with itself
(44-70% by wording), so the judge gets a prompt of its own. It is consulted only on claims
the word checks doubt (see ``qa.grounding.ground``): a second or so each.
"""

from __future__ import annotations

from pathlib import Path

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.prompts import ChatPromptTemplate

from qa.grounding.ground import Judge
from qa.models.llms import LlamaCppChat, logprobs_of

SYSTEM = "You check whether a text supports an answer to a question. Reply yes or no."
ASK = "Text: {passage}\nQuestion: {question}\nAnswer: {answer}\nDoes the text support this answer?"
# Worked examples (invented): a name from the right sentence in the wrong role, a right
# answer, an answer about someone the question did not ask about.
EXAMPLES = [
    (
        "The Lumen Bridge, designed by Clara Veld for the city of Ostia, opened in 1932.",
        "Who designed the Lumen Bridge?",
        "Ostia designed the Lumen Bridge.",
        "no",
    ),
    (
        "The festival, organised by the harbour board, drew 12,000 visitors in 2019.",
        "How many visitors did the festival draw in 2019?",
        "The festival drew 12,000 visitors in 2019.",
        "yes",
    ),
    (
        "Maria Olsen, the museum's director, said the roof will be repaired next spring.",
        "What did the mayor say about the roof?",
        "The mayor said the roof will be repaired next spring.",
        "no",
    ),
]
TURNS: list[tuple[str, str]] = [("system", SYSTEM)]
for _text, _question, _answer, _verdict in EXAMPLES:
    TURNS += [("human", ASK.format(passage=_text, question=_question, answer=_answer))]
    TURNS += [("ai", _verdict)]
JUDGE = ChatPromptTemplate.from_messages([*TURNS, ("human", ASK)])


def judge_with(llm: BaseChatModel, cache_dir: Path | None = None) -> Judge:
    """The judge for this model: its next-token odds of "yes" where they can be read (in
    process, or a server that returns logprobs), else its one-word reply as 0 or 1."""

    def judge(question: str, claim: str, passage: str) -> float:
        messages = JUDGE.format_messages(passage=passage, question=question, answer=claim)
        if isinstance(llm, LlamaCppChat):
            p = llm.yes_probability(messages, preamble=len(TURNS), cache_dir=cache_dir)
            if p is not None:
                return p
        reply = llm.bind(logprobs=True, top_logprobs=5).invoke(messages, max_tokens=1)
        return _from_reply(reply)

    return judge


def _from_reply(reply: AIMessage) -> float:
    import math

    first = (logprobs_of(reply) or [{}])[0]
    odds = {"yes": 0.0, "no": 0.0}
    for alt in first.get("top_logprobs") or []:
        word = alt["token"].strip().lower()
        if word in odds:
            odds[word] += math.exp(alt["logprob"])
    if odds["yes"] + odds["no"] > 0:
        return odds["yes"] / (odds["yes"] + odds["no"])
    return 1.0 if str(reply.content).strip().lower().startswith("yes") else 0.0

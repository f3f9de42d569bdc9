"""What `qa generate` asks the model: to write a question for an answer span, and to answer
its own question from the sentence alone (the round trip)."""

from __future__ import annotations

from langchain_core.prompts import ChatPromptTemplate

MAX_TOKENS = 40  # a question, not an answer
STOP = ["\n"]  # one line: what follows a question (an answer, a second one) is thrown away
SYSTEM = "You write one short quiz question about a text. Reply with the question only."
# The instruction first and the sentence after: all but the sentence and its answer stays in
# llama.cpp's KV cache from one question to the next (``Generator.primed``).
TASK = (
    "Write one question that the text below answers with the answer below. The question must "
    "not contain the answer, and must make sense to someone who has not seen the text.\n\n"
    "Text{where}: {sentence}\nAnswer: {answer}{reword}"
)
REWORD = "\n\nUse other words than the text where you can."
WRITE = ChatPromptTemplate.from_messages([("system", SYSTEM), ("human", TASK)])
# The round trip (Alberti et al., 2019): the model answers its own question from the sentence
# alone; a question it answers with something else asked about another part of the sentence
# ("Who accused X?" written for X), the generator's most common error.
ANSWER = ChatPromptTemplate.from_messages(
    [
        ("system", "Answer the question from the text, in a few words."),
        ("human", "Text: {sentence}\n\nQuestion: {question}"),
    ]
)
ANSWER_TOKENS = 24

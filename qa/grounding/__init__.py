"""Grounding: every claim of a draft checked against the passage it cites.

``claims`` splits a draft into cited claims; ``support`` finds a claim's support by its words,
``kinds`` by the kind of answer asked for, ``judge`` by the LLM; ``ground`` chooses among the
candidates and ``decision`` decides whether to answer or decline.
"""

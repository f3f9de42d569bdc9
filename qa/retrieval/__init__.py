"""Retrieval: from a question to the passages the model reads.

``followups`` makes a follow-up question stand alone; ``retrieve`` ranks chunks by meaning and
by words and widens the best into passages (``Evidence``).
"""

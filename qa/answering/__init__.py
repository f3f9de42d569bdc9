"""Answering: the chain from a question to a cited ``Answer``.

``chain`` runs retrieve -> prompt -> LLM -> grounding; ``prompts`` holds what the model reads;
``answer`` is the result and its citations.
"""

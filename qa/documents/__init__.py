"""Reading documents: each file format into text with exact offsets, sections and pages.

``loaders`` is the entry (one loader a file, a reader a format, registered by suffix); the
readers beside it: ``markup`` (HTML, Markdown), ``pdf``, ``office`` (Word, RTF), ``opendoc``
(OpenDocument text and slides), ``slides`` (PowerPoint), ``sheets`` (spreadsheets, CSV),
``epub``, ``mail`` and ``ocr`` (scanned pages, images); ``blocks`` is what they share.
"""

"""Reading documents: each file format into text with exact offsets, sections and pages.

``loaders`` is the entry (one loader a folder, a reader a format); ``markup`` (HTML) and
``pdf`` are its readers.
"""

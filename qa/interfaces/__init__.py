"""Interfaces: how people and programs reach the chain.

``cli`` is the ``qa`` command (``options``: its shared flags; ``measure``: ``qa eval`` and
``qa calibrate``); ``web`` is the chat page, ``api`` the HTTP API, ``server`` both on one port.
"""

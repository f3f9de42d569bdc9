"""Interfaces: how people and programs reach the chain.

``cli`` is the ``qa`` command (``options``: its shared flags; ``measure``: ``qa eval`` and
``qa calibrate``; ``accounts``: ``qa users``); ``web`` is the chat page, ``api`` the HTTP API,
``library`` the corpus over HTTP, ``server`` all of them on one port. In front of the server:
``auth`` (one door: who is asking, what their role allows), ``login`` (the routes open to all),
``users`` (the users file, roles, tokens), ``limits`` (queue cap, timeouts, rates), ``uploads``
(documents saved safely) and ``audit`` (who did what, from where).
"""

"""Beside the build: tools that write a new source (``deckgen new``, ``deckgen draft``) and ``deckgen watch``.

Imports :mod:`generator.source` and :mod:`generator.build` (``watch`` runs the build on every save).
"""

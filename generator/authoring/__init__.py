"""Beside the build: tools that write a new source (``deckgen new``, ``deckgen draft``) and ``deckgen watch``.

Imports :mod:`generator.views` and below (``watch`` runs the build on every save and writes the preview).
"""

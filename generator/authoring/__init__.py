"""Beside the build: tools that write a new source (``deckgen new``, ``deckgen draft``).

Imports :mod:`generator.source` and :mod:`generator.build.journal`.
"""

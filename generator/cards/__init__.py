"""Layer 2, the cards: notes made from the content, and selections of them into decks.

Imports only :mod:`generator.source` (and :mod:`generator.errors`).
"""

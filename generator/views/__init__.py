"""Layer 6, views: what a source and its build look like to a person or a program, written nowhere else.

The preview page, ``deckgen list``'s tables, ``deckgen check``'s JSON and
GitHub annotations.  Apart from the build so that a new way to look at a deck
changes no build machinery; imports :mod:`generator.pipeline` and below.
"""

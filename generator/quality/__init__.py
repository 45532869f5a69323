"""Layer 4, card quality: smells, what a program can tell about a card that will not teach.

Apart from the build because judging a card is not making one: the build runs
these checks, and so do ``check``, ``draft`` and ``watch``, while the rules
change with what is learned about teaching, never with how packages are made.
Imports :mod:`generator.anki` (a card is judged as Anki renders it) and below.
"""

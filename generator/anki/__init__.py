"""Layer 3, Anki: note types, packages, CSV, and rendering cards as Anki does.

The only layer that imports genanki; imports :mod:`generator.cards` and below.
"""

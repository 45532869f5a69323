"""Layer 1, the source: reading YAML, validating it, the content it states.

Imports nothing of deckgen but :mod:`generator.errors`.
"""

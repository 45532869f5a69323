"""Layer 4, the build: the lock, the cache, the journal that commits files, and the pipeline.

Imports :mod:`generator.anki` and below.
"""

"""Layer 5, the build: the lock, the cache, the journal that commits files, and the pipeline.

Imports :mod:`generator.quality` (a build judges its cards) and below.
"""

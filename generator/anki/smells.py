"""Moved to :mod:`generator.quality.smells`: this name forwards there for the importers not yet moved.

``generator/authoring/asking.py`` is being changed on another branch, so it
keeps importing from here until that branch is merged; then its imports move
and this file goes (``tests/test_layers.py`` fails once nothing imports it).
"""

from generator.quality.smells import *  # noqa: F403

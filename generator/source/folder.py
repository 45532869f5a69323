"""A source folder's layout: its settings file, its topic files, and how an id is spelt.

Apart from the loader: a rebuild with nothing to do lists and hashes these
files, and checks the lock's keys, without reading YAML (see
:mod:`generator.pipeline.cache`).
"""

from __future__ import annotations

import os
import re

CONFIG_FILE = "deckgen.yaml"
MISNAMED_CONFIG = "deckgen.yml"
SETTINGS_FILES = (CONFIG_FILE, MISNAMED_CONFIG)
"""The source's settings and their misnamed twin: neither is a topic file."""
MAX_FILE_BYTES = 8 * 1024 * 1024
"""Larger source files are refused: no flashcard source needs more, a mistake might."""
ID_PATTERN = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
"""An id (of a source, topic, item, point, ...): it names a topic's file and is part of every note's key."""


def input_files(directory: str) -> list[str]:
    """Every file a build of the source folder *directory* reads (or reports).

    The settings files that exist come first, then the topic files in the order
    their topics are built.
    """
    settings = [name for name in SETTINGS_FILES if os.path.lexists(os.path.join(directory, name))]
    return [os.path.join(directory, name) for name in settings + topic_names(directory)]


def topic_names(directory: str) -> list[str]:
    """The names of the topic files in *directory*, in the order their topics are built."""
    # Any case of the extension ("x.YAML" is a topic too); never hidden files such as
    # an editor's lock file ".#x.yaml" or a backup ".x.yaml".
    return sorted(
        name
        for name in os.listdir(directory)
        if name.lower().endswith((".yaml", ".yml")) and not name.startswith(".") and name not in SETTINGS_FILES
    )

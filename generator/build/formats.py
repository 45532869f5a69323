"""The file formats a build writes: one list, cheap to import (the CLI's ``--format`` choice reads it at start-up)."""

from __future__ import annotations

from typing import Final, Literal

FileFormat = Literal["apkg", "csv"]
"""Anki packages, or Anki's CSV text format."""
FORMATS: Final[tuple[FileFormat, ...]] = ("apkg", "csv")

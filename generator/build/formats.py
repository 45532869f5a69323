"""The file formats a build writes: one enum, cheap to import (the CLI's ``--format`` choice reads it at start-up).

A format says what the build does differently for it (as sqlite-utils' one
``Format``): its file suffix, whether it carries notes' times (and so updates
the lock, and its packages can be reused), so no module compares strings.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Format(StrEnum):
    """Anki packages, or Anki's CSV text format."""

    APKG = "apkg"
    CSV = "csv"

    @property
    def suffix(self) -> str:
        """The file name's ending: ``.apkg``, ``.csv``."""
        return f".{self.value}"

    @property
    def carries_times(self) -> bool:
        """True if its files hold notes' times: the build updates the lock, and reuses unchanged packages."""
        return self is Format.APKG


FileFormat = Format
"""The former name, kept for callers."""
FORMATS: Final[tuple[str, ...]] = tuple(f.value for f in Format)

"""What the lock records of a note type: its contract with Anki and a hash of its look.

No genanki here: reading and checking the lock must not load it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class NoteTypeSchema:
    """A note type's contract (id, name, field and template names) and its look (hash)."""

    id: int
    name: str
    fields: tuple[str, ...]
    templates: tuple[str, ...]
    hash: str
    mod: int = 0

    def same_contract(self, other: NoteTypeSchema) -> bool:
        """True if Anki would treat *other* as the same note type (no "Name+" copy)."""
        return (self.id, self.fields, self.templates) == (other.id, other.fields, other.templates)


def content_hash(parts: Iterable[str]) -> str:
    """A short, stable hash of some strings."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:16]

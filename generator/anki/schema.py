"""What the lock records of a note type: its contract with Anki and a hash of its look.

No genanki here: reading and checking the lock must not load it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class NoteTypeSchema:
    """A note type's contract (id, name, its fields' and templates' names and ids) and its look (hash).

    An id of ``None`` is unknown: a lock written before deckgen gave fields and
    templates ids, whose students' note types have none either.
    """

    id: int
    name: str
    fields: tuple[str, ...]
    field_ids: tuple[int | None, ...]
    templates: tuple[str, ...]
    template_ids: tuple[int | None, ...]
    hash: str
    mod: int = 0

    def same_contract(self, other: NoteTypeSchema) -> bool:
        """True if Anki would import *other* over this note type in place (no "Name+" copy).

        Anki's ``equal_schema`` (rslib ``import_export/package/apkg/import/notes.rs``):
        the same number of fields and of templates, each matching the one at its
        position by id, or by name where either has no id.
        """
        return (
            self.id == other.id
            and all_match(self.fields, self.field_ids, other.fields, other.field_ids)
            and all_match(self.templates, self.template_ids, other.templates, other.template_ids)
        )

    def identical(self, other: NoteTypeSchema) -> bool:
        """True if *other* has the same contract, names and ids alike, and the same look."""
        return replace(self, mod=other.mod) == other


def all_match(
    names: Sequence[str], ids: Sequence[int | None], other_names: Sequence[str], other_ids: Sequence[int | None]
) -> bool:
    """Anki's test of two fields' (or templates') lists: as many, and each matches the other's at its place."""
    return len(names) == len(other_names) and all(
        matches(*pair) for pair in zip(names, ids, other_names, other_ids, strict=True)
    )


def matches(name: str, id_: int | None, other_name: str, other_id: int | None) -> bool:
    """Anki's ``is_match`` of a field or template: by id if both have one, else by name."""
    if id_ is not None and other_id is not None:
        return id_ == other_id
    return name == other_name


def content_hash(parts: Iterable[str]) -> str:
    """A short, stable hash of some strings."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:16]

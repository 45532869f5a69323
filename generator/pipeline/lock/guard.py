"""The note type guard: a note type's contract may not change under the same id.

Anki imports a note type whose fields or templates changed under the same id
as a copy, and stops updating every student's notes; so such a build is
refused, saying which part changed and how to make it a new version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from generator.anki.schema import NoteTypeSchema, all_match
from generator.errors import Problem
from generator.pipeline.lock.model import Lock


def check_note_types(
    current: Mapping[str, NoteTypeSchema], lock: Lock, lock_path: str
) -> list[Problem]:
    """Refuse a note type whose contract changed under the same id.

    Anki would import it as a copy ("Name+") and stop updating every existing
    note.  A deliberate change is a *new version*: a new id and name (see
    README, "Changing a note type").
    """
    problems = []
    for kind, schema in current.items():
        locked = lock.note_types.get(kind)
        if locked is not None and locked.id == schema.id and not locked.same_contract(schema):
            problems.append(_contract_changed(locked, schema, lock_path))
    return problems


def _contract_changed(locked: NoteTypeSchema, schema: NoteTypeSchema, lock_path: str) -> Problem:
    """Why the note type *schema* cannot be imported over *locked* in place."""
    lists = [part for part in _Parts.of(locked, schema) if not part.match()]
    changes = " and ".join(part.change() for part in lists)
    reasons = "; ".join(reason for part in lists for reason in part.reasons())
    return Problem(
        lock_path,
        1,
        f"note type {schema.name!r}",
        f"its {changes} changed under the same id {schema.id}; Anki would import it as a copy "
        f"'{schema.name}+' and stop updating students' notes: {reasons}. {_IN_PLACE} Revert the change, "
        "or make it a new note type version (new id and name; see README)",
    )


_IN_PLACE = (
    "Anki renames a field or template in place, matched by its id (rename one by its key in RENAMED_FIELDS "
    "or RENAMED_TEMPLATES, generator/anki/notetypes.py), but never adds, removes or reorders one."
)
_HELD_BY = {
    "field": "every student's note of this type holds it",
    "template": "students' cards were made from it",
}


class _Parts(NamedTuple):
    """The fields (or the templates) of a note type: as the lock has them, and as built now."""

    word: str
    """"field" or "template"."""
    names: tuple[str, ...]
    ids: tuple[int | None, ...]
    new_names: tuple[str, ...]
    new_ids: tuple[int | None, ...]

    @staticmethod
    def of(locked: NoteTypeSchema, schema: NoteTypeSchema) -> tuple[_Parts, _Parts]:
        """The fields and the templates of *locked* and *schema*."""
        return (
            _Parts("field", locked.fields, locked.field_ids, schema.fields, schema.field_ids),
            _Parts("template", locked.templates, locked.template_ids, schema.templates, schema.template_ids),
        )

    def match(self) -> bool:
        """True if Anki matches the new list to the locked one (see NoteTypeSchema.same_contract)."""
        return all_match(self.names, self.ids, self.new_names, self.new_ids)

    def change(self) -> str:
        """The change, as "fields [old names] -> [new names]" (or their ids, if only those changed)."""
        if self.names == self.new_names:
            return f"{self.word} ids {list(self.ids)} -> {list(self.new_ids)}"
        return f"{self.word}s {list(self.names)} -> {list(self.new_names)}"

    def reasons(self) -> list[str]:
        """What in the change Anki cannot import in place."""
        if None in self.ids:
            return [
                f"students' {self.word}s have no ids yet, so Anki matches them by name (build, and release, once "
                "without the change: that build gives them their ids; then rename)"
            ]
        old, new = dict(zip(self.ids, self.names, strict=True)), dict(zip(self.new_ids, self.new_names, strict=True))
        held = _HELD_BY[self.word]
        removed = [f"{self.word} {name!r} is removed, and {held}" for i, name in old.items() if i not in new]
        added = [f"{self.word} {name!r} is added" for i, name in new.items() if i not in old]
        return removed + added or [f"the {self.word}s are reordered"]

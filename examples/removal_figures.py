"""What a new and an existing student see after a release that removes notes, in figures from real Anki.

Imports an earlier release's packages and today's into fresh collections
with the official ``anki`` package, answers every card of the earlier release
(a student who studied it), runs Tools > Check Database, and marks removals
the way ``deckgen push`` does (through an in-process stand-in for
AnkiConnect's actions, answered by the same collection).

    git worktree add /tmp/rel 7da9f2c
    (cd /tmp/rel && PYTHONPATH=/tmp/rel python -m generator build -q --out /tmp/reldecks)
    python examples/removal_figures.py /tmp/reldecks
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
import tempfile

from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.consts import QUEUE_TYPE_SUSPENDED

from generator.connect.notices import mark_removed, removed_notes
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build


def import_all(col: Collection, paths: list[str], scheduling: bool = False) -> None:
    for path in paths:
        options = col._backend.get_import_anki_package_presets()
        if scheduling:
            options = ImportAnkiPackageOptions(merge_notetypes=True, with_scheduling=True, with_deck_configs=True)
        col.import_anki_package(ImportAnkiPackageRequest(package_path=path, options=options))
        col.models._clear_cache()


def counts(col: Collection) -> str:
    default = len(col.find_cards('"deck:Default"'))
    cardless = col.db.scalar("select count() from notes where id not in (select nid from cards)")
    return f"{col.note_count()} notes, {col.card_count()} cards ({default} in Default, {cardless} notes without cards)"


def study(col: Collection) -> int:
    """Answer every card once, deck by deck ("Good"), as a student's first pass does."""
    from anki.cards import Card
    from anki.scheduler_pb2 import CardAnswer

    for config in col.decks.all_config():
        config["new"]["perDay"] = 9999
        col.decks.update_config(config)
    answered: set[int] = set()
    for deck in col.decks.all_names_and_ids():
        col.decks.select(deck.id)
        while fresh := [q for q in col.sched.get_queued_cards(fetch_limit=1000).cards if q.card.id not in answered]:
            for queued in fresh:
                card = Card(col)
                card._load_from_backend_card(queued.card)
                card.start_timer()
                col.sched.answer_card(col.sched.build_answer(card=card, states=queued.states, rating=CardAnswer.GOOD))
                answered.add(card.id)
    return len(answered)


class InProcess:
    """AnkiConnect's actions as push calls them, answered by *col* itself."""

    def __init__(self, col: Collection) -> None:
        self.col = col

    def call(self, action: str, *, timeout: float | None = None, **params: object) -> object:
        col, p = self.col, params
        if action == "importPackage":
            import_all(col, [str(p["path"])], scheduling=True)
            return True
        if action == "findNotes":
            return list(col.find_notes(str(p["query"])))
        if action == "findCards":
            return list(col.find_cards(str(p["query"])))
        if action == "notesInfo":
            notes = [col.get_note(n) for n in p["notes"]]  # type: ignore[attr-defined]
            return [{"noteId": n.id, "cards": list(n.card_ids()), "fields": {k: {"value": v} for k, v in n.items()}}
                    for n in notes]
        if action == "deleteNotes":
            col.remove_notes(p["notes"])  # type: ignore[arg-type]
        elif action == "deleteDecks":
            col.decks.remove([d for name in p["decks"] if (d := col.decks.id_for_name(name))])  # type: ignore[attr-defined]
        elif action == "suspend":
            col.sched.suspend_cards(p["cards"])  # type: ignore[arg-type]
        elif action == "unsuspend":
            col.sched.unsuspend_cards(p["cards"])  # type: ignore[arg-type]
        elif action == "removeTags":
            col.tags.bulk_remove(p["notes"], str(p["tags"]))  # type: ignore[arg-type]
        return None


def main(old_decks: str) -> None:
    work = tempfile.mkdtemp(prefix="removal-figures-")
    old = sorted(glob.glob(os.path.join(old_decks, "*.apkg")))
    out = os.path.join(work, "decks")
    shutil.copy("cards_source/deckgen.lock", os.path.join(work, "deckgen.lock"))  # the committed lock, untouched
    report = build(BuildConfig("cards_source", out, lock_path=os.path.join(work, "deckgen.lock")))
    new = [f.path for f in report.files]

    col = Collection(os.path.join(work, "new-old.anki2"))
    import_all(col, old)
    print(f"new student, earlier release:      {counts(col)}")
    col.fix_integrity()
    print(f"  after Check Database:            {counts(col)}")
    col.close()

    col = Collection(os.path.join(work, "new-today.anki2"))
    import_all(col, new)
    print(f"new student, today's release:      {counts(col)}")
    col.fix_integrity()
    print(f"  after Check Database:            {counts(col)}")
    col.close()

    col = Collection(os.path.join(work, "existing.anki2"))
    import_all(col, old)
    answered = study(col)
    reviews = col.db.scalar("select count() from revlog")
    print(f"existing student, earlier release: {counts(col)}; {answered} cards answered")
    import_all(col, new)
    kept = col.db.scalar("select count() from revlog")
    print(f"  after importing today's:         {counts(col)}; reviews kept {kept} of {reviews}")
    lock = removed_notes(out)
    assert lock is not None
    # the lock of today's build, as push reads it (its source folder is recorded in the out folder's cache)
    marked = mark_removed(InProcess(col), *lock, new)
    suspended = len(col.find_cards("is:suspended tag:deckgen::removed"))
    print(f"  after push:                      {counts(col)}; {marked.marked} notes marked removed, "
          f"{suspended} cards suspended, {marked.dropped} card-less notes deleted; reviews kept "
          f"{col.db.scalar('select count() from revlog')} of {reviews}")
    col.fix_integrity()
    print(f"  after Check Database:            {counts(col)}")
    assert all(c.queue == QUEUE_TYPE_SUSPENDED for nid in col.find_notes("tag:deckgen::removed")
               for c in col.get_note(nid).cards())
    col.close()


if __name__ == "__main__":
    main(sys.argv[1])

"""Simulate a class studying the bundled decks in real Anki, then run ``deckgen report`` on their exports.

Twenty students each get a fresh Anki collection (the official ``anki``
package), import the decks built from ``cards_source/``, and study them for a
number of simulated days with Anki's v3 scheduler: new cards a day, the
reviews that fall due, "Again" when they forget.  Students differ in
accuracy; half of them use FSRS.  A few items are made harder on purpose, so
the report has something to find.  Each student then exports their collection
with scheduling information, as File > Export would, and the report reads the
twenty exports.

    python examples/simulate_class.py                 # report on stdout, page in /tmp/report.html
    python examples/simulate_class.py --days 30 --html class.html

Needs the ``report`` extra (``pip install -e '.[report]'``).  Takes about a
minute; everything is written to a temporary folder (the exports are kept
with ``--keep DIR``).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from anki.collection import Collection, ExportAnkiPackageOptions, ImportAnkiPackageRequest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from generator.connect.page import write_page  # noqa: E402
from generator.connect.report import make_report, report_lines  # noqa: E402
from generator.pipeline.config import BuildConfig  # noqa: E402
from generator.pipeline.pipeline import build, check  # noqa: E402

STUDENTS = 20
HARD_ITEMS = ("ind-atomization", "col-rigid-hierarchies", "ind-learns-long-term")
"""Items made harder on purpose (each student forgets their cards far more often)."""
NEW_PER_DAY = 12


@dataclass(frozen=True)
class Student:
    """One simulated student: how often they remember, and whether their Anki uses FSRS."""

    name: str
    accuracy: float
    fsrs: bool
    rng: random.Random


def main() -> None:
    """Build the decks, simulate the class, report."""
    args = _arguments()
    html = os.path.abspath(args.html)
    with tempfile.TemporaryDirectory(prefix="deckgen-class-") as work:
        folder = Path(args.keep or work).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        os.chdir(folder)  # the report names files as a teacher's would: cards_source/<file>:<line>
        source = _source_copy(folder).relative_to(folder)
        packages = [Path(f.path) for f in build(BuildConfig(str(source), str(folder / "decks"))).files]
        hard = {note.guid for note in check(str(source))[1] if note.item_id in HARD_ITEMS}
        print(f"Made harder on purpose: {', '.join(HARD_ITEMS)} ({len(hard)} notes)", file=sys.stderr)
        exports = [_simulate(s, packages, hard, args.days, folder) for s in _class(args.seed)]
        report = make_report([str(path) for path in exports], str(source))
        print("\n".join(report_lines(report)))
        write_page(report, html)
        print(f"wrote {html}", file=sys.stderr)
        os.chdir(ROOT)  # out of the folder before it is deleted


def _arguments() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=21, help="simulated days of study (default 21)")
    parser.add_argument("--seed", type=int, default=12, help="random seed (default 12)")
    parser.add_argument("--html", default="/tmp/report.html", help="where to write the page")
    parser.add_argument("--keep", default=None, help="keep the collections and exports in this folder")
    return parser.parse_args()


def _source_copy(folder: Path) -> Path:
    """A copy of the bundled source (its own lock, so the checkout's is not touched)."""
    target = folder / "cards_source"
    shutil.copytree(ROOT / "cards_source", target, dirs_exist_ok=True)
    return target


def _class(seed: int) -> list[Student]:
    """Twenty students from 65% to 95% accuracy; every other one uses FSRS."""
    rng = random.Random(seed)
    return [
        Student(f"student-{n:02d}", rng.uniform(0.65, 0.95), n % 2 == 0, random.Random(seed * 100 + n))
        for n in range(1, STUDENTS + 1)
    ]


def _simulate(student: Student, packages: list[Path], hard: set[str], days: int, folder: Path) -> Path:
    """One student's collection: import, study *days* days, export with scheduling; returns the export."""
    (folder / student.name).mkdir(parents=True, exist_ok=True)
    col = Collection(str(folder / student.name / "collection.anki2"))
    try:
        for package in packages:
            options = col._backend.get_import_anki_package_presets()
            col.import_anki_package(ImportAnkiPackageRequest(package_path=str(package), options=options))
        col.set_config("fsrs", student.fsrs)
        due: dict[int, int] = {}
        for day in range(days):
            _study_day(col, student, hard, day, due)
        path = folder / f"{student.name}.apkg"
        options = ExportAnkiPackageOptions(with_scheduling=True, with_deck_configs=True, with_media=False)
        col.export_anki_package(out_path=str(path), options=options, limit=None)
        return path
    finally:
        col.close()


def _study_day(col: Collection, student: Student, hard: set[str], day: int, due: dict[int, int]) -> None:
    """One simulated day: the reviews that fall due today, then new cards, until the queue is empty.

    Anki's clock does not move, so the day's reviews are brought forward with
    "Set due date" (a manual entry in the log, which the report ignores), and
    the daily limit of new cards grows by a day's worth each day.
    """
    from anki.cards import Card  # after anki.collection: anki's own import order
    from anki.consts import CARD_TYPE_REV

    today = [card_id for card_id, on in due.items() if on <= day]
    if today:
        col.sched.set_due_date(today, "0")
    _limits(col, NEW_PER_DAY * (day + 1))
    answered: set[int] = set()
    while queued := col.sched.get_queued_cards(fetch_limit=1).cards:
        card = Card(col)
        card._load_from_backend_card(queued[0].card)
        card.start_timer()
        rating = _rating(student, card.note().guid in hard, card.reps)
        col.sched.answer_card(col.sched.build_answer(card=card, states=queued[0].states, rating=rating))
        answered.add(card.id)
    for card_id in answered:
        card = col.get_card(card_id)
        if card.type == CARD_TYPE_REV:
            due[card_id] = day + max(1, card.ivl)


def _limits(col: Collection, new_cards: int) -> None:
    """Every deck: *new_cards* new cards in total so far, reviews without limit; study the whole collection."""
    for config in col.decks.all_config():
        config["new"]["perDay"] = new_cards
        config["rev"]["perDay"] = 9999
        col.decks.update_config(config)
    root = min(col.decks.all_names_and_ids(skip_empty_default=True), key=lambda deck: len(deck.name))
    col.decks.select(root.id)


def _rating(student: Student, hard: bool, reps: int) -> int:
    """Again, Hard, Good or Easy: remembered with the student's accuracy (much less for a hard card)."""
    from anki.scheduler_pb2 import CardAnswer

    remembered = min(0.97, student.accuracy + 0.02 * reps) - (0.4 if hard else 0.0)
    if student.rng.random() >= remembered:
        return CardAnswer.AGAIN
    roll = student.rng.random()
    return CardAnswer.HARD if roll < 0.1 else CardAnswer.EASY if roll > 0.92 else CardAnswer.GOOD


if __name__ == "__main__":
    main()

"""The release path: only notes a release carried leave a tombstone (and so are marked by ``push``).

``deckgen build --release`` marks the notes it builds released in the lock; a
plain build, ``plan``, ``preview`` and ``watch`` do not (watch and preview do
not write the lock at all: see test_watch.py).  A lock written before releases
existed reads as it is, every note in it released.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from generator.cards.selection import Selection
from generator.cli import main
from generator.pipeline.config import BuildConfig
from generator.pipeline.lock.read import read_lock
from generator.pipeline.pipeline import build, custom_decks

from .support import ROOT, T1, T2, V1, write_source

NEW_ITEM = "  - id: extra\n    perspective: tea\n    title: Extra\n    explanation: Tea is {{steeped}}.\n"
WITH_EXTRA = V1.replace("comparisons:", NEW_ITEM + "comparisons:")


def _lock(source: Path) -> dict:
    return json.loads((source / "deckgen.lock").read_text(encoding="utf-8"))["notes"]


def _extra_keys(source: Path) -> set[str]:
    return {key for key in _lock(source) if "/extra/" in key}


def test_a_note_added_and_removed_between_two_releases_leaves_no_tombstone(tmp_path):
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1, release=True))
    (source / "basics.yaml").write_text(WITH_EXTRA, encoding="utf-8")
    added = build(BuildConfig(str(source), str(out), timestamp=T1 + 10))  # a build to look at: no release
    assert added.total("added") == 2 and added.unreleased == 2
    assert {_lock(source)[k].get("released") for k in _extra_keys(source)} == {False}
    (source / "basics.yaml").write_text(V1, encoding="utf-8")
    gone = build(BuildConfig(str(source), str(out), timestamp=T1 + 20))
    assert gone.total("removed") == 0 and gone.unreleased == 0
    assert _extra_keys(source) == set()  # nothing for push to mark: no student ever had it
    released = build(BuildConfig(str(source), str(out), timestamp=T2, release=True))
    assert released.total("removed") == 0
    assert all(entry["removed"] is None for entry in _lock(source).values())


def test_a_released_note_leaves_a_tombstone_and_keeps_it_through_plain_builds(tmp_path):
    source = write_source(tmp_path / "src", WITH_EXTRA)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    released = build(BuildConfig(str(source), str(out), timestamp=T1 + 10, release=True))  # nothing else changed
    assert released.unreleased == 0 and "released" not in (source / "deckgen.lock").read_text(encoding="utf-8")
    (source / "basics.yaml").write_text(V1, encoding="utf-8")
    gone = build(BuildConfig(str(source), str(out), timestamp=T2))
    assert gone.total("removed") == 2
    assert {_lock(source)[k]["removed"] for k in _extra_keys(source)} == {T2}
    # It comes back: still released (students have it), with the time their copies have.
    (source / "basics.yaml").write_text(WITH_EXTRA, encoding="utf-8")
    back = build(BuildConfig(str(source), str(out), timestamp=T2 + 10))
    assert back.unreleased == 0 and back.total("added") == 2


def test_an_edit_after_a_release_keeps_the_note_released(tmp_path):
    source = write_source(tmp_path / "src", V1)
    build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1, release=True))
    (source / "basics.yaml").write_text(V1.replace("Tea comes from", "Tea first came from"), encoding="utf-8")
    edited = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T2))
    assert edited.total("updated") > 0 and edited.unreleased == 0


def test_a_custom_release_releases_only_what_its_decks_carry(tmp_path):
    source = write_source(tmp_path / "src", WITH_EXTRA)
    build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1))
    requests = custom_decks(Selection(kinds=("cloze",)), "Week 1")
    build(BuildConfig(str(source), str(tmp_path / "custom"), timestamp=T1 + 10, requests=requests, release=True))
    lock = read_lock(str(source / "deckgen.lock"))
    assert {note.note_type for note in lock.notes.values() if note.released} == {"cloze"}
    assert {note.note_type for note in lock.notes.values() if not note.released} == {"comparison"}


def test_the_cli_says_which_notes_no_release_carried_and_release_clears_it(tmp_path):
    source = write_source(tmp_path / "src", V1)
    args = ["build", "--source", str(source), "--out", str(tmp_path / "out"), "-q"]
    plain = CliRunner().invoke(main, args)
    assert plain.exit_code == 0, plain.output
    assert (
        "note: 15 notes in no release yet (removing one leaves no trace); build with --release the decks you hand out"
        in plain.stderr.splitlines()
    )
    released = CliRunner().invoke(main, [*args, "--release"])
    assert released.exit_code == 0, released.output
    assert "no release yet" not in released.output
    assert read_lock(str(source / "deckgen.lock")).notes and all(
        note.released for note in read_lock(str(source / "deckgen.lock")).notes.values()
    )


def test_a_lock_from_before_releases_reads_every_note_as_released(tmp_path):
    """A lock written before releases existed (no "released" on any note) is valid as it is, every note released."""
    text = (ROOT / "cards_source" / "deckgen.lock").read_text(encoding="utf-8")
    older = re.sub(r', "released": (?:true|false)', "", text)
    assert '"released"' not in older
    (tmp_path / "deckgen.lock").write_text(older, encoding="utf-8")
    lock = read_lock(str(tmp_path / "deckgen.lock"))
    assert lock.notes and all(note.released for note in lock.notes.values())


def test_preview_writes_no_lock(tmp_path):
    from generator.views.preview import write_preview

    source = write_source(tmp_path / "src", V1)
    write_preview(str(source), str(tmp_path / "preview.html"))
    assert (tmp_path / "preview.html").is_file() and not (source / "deckgen.lock").exists()


SIDE_ONLY = V1.replace("    dimension: Caffeine\n", "    dimension: Caffeine\n    ask: side\n")


def test_a_released_comparison_asked_one_way_now_is_noted_for_the_blank_card_anki_keeps(tmp_path):
    """Anki's import never deletes a card: a direction a release asked, no longer asked, stays with the student,
    its front blank.  A build says so, per note, where the author can act; the real client shows why."""
    from .ankitools import import_package, open_collection, rendered_cards, study_everything

    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    run = CliRunner().invoke
    assert run(main, ["build", "--release", "--source", str(source), "--out", str(out)], env={
        "SOURCE_DATE_EPOCH": str(T1)}).exit_code == 0
    col = open_collection(tmp_path / "student")
    import_package(col, out / "basics.apkg")
    study_everything(col)
    (source / "basics.yaml").write_text(SIDE_ONLY, encoding="utf-8")
    args = ["--source", str(source), "--out", str(out)]
    planned = run(main, ["plan", *args], env={"SOURCE_DATE_EPOCH": str(T2)})
    built = run(main, ["build", *args], env={"SOURCE_DATE_EPOCH": str(T2)})
    line = SIDE_ONLY.splitlines().index("  - id: caffeine") + 1
    noted = [
        f"{source}/basics.yaml:{line}: caffeine/side/{side}: note: a release carried it with 2 cards, it has 1 now: a "
        "student who studied it keeps the card no longer asked, its front blank, until Anki's Tools > Empty Cards "
        "deletes it (with its reviews); ask it as released to keep the card"
        for side in ("tea", "coffee")
    ]
    for result in (planned, built):
        assert result.exit_code == 0 and [x for x in result.stderr.splitlines() if ": note: " in x] == noted
    import_package(col, out / "basics.apkg")
    blank = [c for c in rendered_cards(col) if "front of this card is blank" in c.question_text]
    assert [c.template for c in blank] == ["Perspective from statement"] * 2
    assert all(col.get_card(c.card_id).reps == 1 for c in blank)  # the history the note warns about
    again = run(main, ["build", *args], env={"SOURCE_DATE_EPOCH": str(T2 + 10)})
    assert ": note: " not in again.stderr  # said once, by the build that wrote the lock


def test_a_comparison_narrowed_before_any_release_is_no_news(tmp_path):
    source = write_source(tmp_path / "src", V1)
    args = ["--source", str(source), "--out", str(tmp_path / "out")]
    assert CliRunner().invoke(main, ["build", *args]).exit_code == 0
    (source / "basics.yaml").write_text(SIDE_ONLY, encoding="utf-8")
    result = CliRunner().invoke(main, ["build", *args])
    assert result.exit_code == 0 and ": note: " not in result.stderr  # no student has the card


def test_a_release_says_so_and_a_plain_build_does_not(tmp_path):
    source = write_source(tmp_path / "src", V1)
    args = ["--source", str(source), "--out", str(tmp_path / "out")]
    plain = CliRunner().invoke(main, ["build", *args])
    assert plain.exit_code == 0 and "Released" not in plain.stdout
    released = CliRunner().invoke(main, ["build", "-q", "--release", *args])
    notes = len(_lock(source))
    assert released.exit_code == 0 and released.stdout.splitlines()[-1] == (
        f"Released: {notes} notes, marked as handed out in {source / 'deckgen.lock'}."
    )

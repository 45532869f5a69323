"""``deckgen report``: students study in real Anki collections, export with scheduling, the report ranks their notes.

Every collection here is Anki's own (the ``anki`` package): cards are answered
with the v3 scheduler, exports are made by Anki's exporter, and the report
reads them back through Anki's importer.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import struct
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Collection as Set
from pathlib import Path

import pytest
from anki.collection import Collection, ExportAnkiPackageOptions
from click.testing import CliRunner

from generator.cli import main
from generator.connect.page import REPORT_MARK
from generator.connect.report import MISSING_ANKI, NO_SCHEDULING, make_report, report_lines
from generator.errors import DeckgenError
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build, check

from .ankitools import import_package, open_collection
from .support import BUNDLED_SOURCE, T1, T2, V1, write_source

HARD = ("brewing", "storage")


def study(col: Collection, hard: Set[str], agains: int = 2) -> None:
    """Answer every card with the v3 scheduler: a card of a note in *hard* "Again" *agains* times, else "Good"."""
    from anki.cards import Card
    from anki.scheduler_pb2 import CardAnswer

    for config in col.decks.all_config():
        config["new"]["perDay"] = config["rev"]["perDay"] = 9999
        col.decks.update_config(config)
    answered: Counter[int] = Counter()
    for deck in col.decks.all_names_and_ids():
        col.decks.select(deck.id)
        while queued := col.sched.get_queued_cards(fetch_limit=1).cards:
            card = Card(col)
            card._load_from_backend_card(queued[0].card)
            card.start_timer()
            again = card.note().guid in hard and answered[card.id] < agains
            answered[card.id] += again
            rating = CardAnswer.AGAIN if again else CardAnswer.GOOD
            col.sched.answer_card(col.sched.build_answer(card=card, states=queued[0].states, rating=rating))


def export(col: Collection, path: Path, scheduling: bool = True) -> Path:
    """Export the whole collection as a deck package, as File > Export > Anki Deck Package does."""
    options = ExportAnkiPackageOptions(with_scheduling=scheduling, with_deck_configs=scheduling, with_media=False)
    col.export_anki_package(out_path=str(path), options=options, limit=None)
    return path


@pytest.fixture
def drinks(tmp_path: Path):
    """The drinks source, built; its package and its notes."""
    source = write_source(tmp_path / "src", V1)
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1, release=True))
    return source, Path(report.files[0].path), check(str(source))[1]


def student(tmp_path: Path, package: Path, hard: Set[str], name: str, scheduling: bool = True) -> Path:
    """One student: a fresh collection, the package imported, studied, exported as ``<name>.apkg``."""
    col = open_collection(tmp_path / f"col-{name}")
    # The day's end half a day away: near Anki's default rollover (4 a.m.) a learning step would fall into
    # tomorrow and the card come back one review short.
    col.set_config("rollover", (time.localtime().tm_hour + 12) % 24)
    try:
        import_package(col, package)
        study(col, hard)
        return export(col, tmp_path / f"{name}.apkg", scheduling)
    finally:
        col.close()


def guids(notes, items: Set[str]) -> set[str]:
    return {note.guid for note in notes if note.item_id in items}


def test_the_notes_answered_again_come_first_with_their_file_and_line(tmp_path, drinks):
    source, package, notes = drinks
    exported = student(tmp_path, package, guids(notes, HARD), "alice")
    report = make_report([str(exported)], str(source))
    hard = [note for note in notes if note.item_id in HARD]
    first = report.rows[: len(hard)]
    assert {(row.place.file, row.place.line, row.place.item) for row in first} == {
        (note.file, note.line, note.item_id) for note in hard
    }
    assert all(row.figures.again.median > 0 for row in first)
    assert all(row.figures.again.median == 0 for row in report.rows[len(hard):])
    assert len(report.rows) == len(notes) and report.students == ("student 1",)
    lines = list(report_lines(report))
    assert lines[1].startswith(f"{source}/basics.yaml:{first[0].place.line}: {first[0].place.item}: ")
    assert "again 50%, 1 student, 4 reviews" in lines[1]  # Again, Again, then Good through two learning steps


def test_the_cli_prints_the_report_and_writes_a_self_contained_page(tmp_path, drinks):
    source, package, notes = drinks
    exported = student(tmp_path, package, guids(notes, {"brewing"}), "alice")
    page = tmp_path / "pages" / "report.html"
    result = CliRunner().invoke(main, ["report", str(exported), "--source", str(source), "--html", str(page)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    brewing = sorted(f"{source}/basics.yaml:{n.line}: brewing: " for n in notes if n.item_id == "brewing")
    assert sorted(line[: len(brewing[0])] for line in lines[1:4]) == brewing
    assert lines[-1] == f"wrote {page}"
    text = page.read_text(encoding="utf-8")
    assert text.count("<svg") == 3 and "prefers-color-scheme: dark" in text
    assert "src=" not in text and "href=" not in text and "url(" not in text and "@import" not in text
    assert "alice" not in result.output + text


def test_several_students_are_added_up_by_median_and_named_only_when_asked(tmp_path, drinks):
    source, package, notes = drinks
    exports = [
        student(tmp_path, package, guids(notes, {"brewing"}), "alice"),
        student(tmp_path, package, guids(notes, {"brewing", "ritual"}), "bob"),
        student(tmp_path, package, guids(notes, {"storage"}), "carol"),
    ]
    report = make_report([str(e) for e in exports], str(source))
    brewing = len(guids(notes, {"brewing"}))
    assert {row.place.item for row in report.rows[:brewing]} == {"brewing"}
    top = report.rows[0].figures
    assert top.again.students == 3 and top.again.median == 0.5 and (top.again.low, top.again.high) == (0.25, 0.5)
    assert top.answers == 4 + 4 + 2
    assert report.students == ("student 1", "student 2", "student 3") and report.by_student == ()
    named = CliRunner().invoke(main, ["report", *map(str, exports), "--source", str(source), "--names"])
    assert named.exit_code == 0
    assert "By student:\n  alice: again" in named.stdout and "  carol: again" in named.stdout
    anonymous = CliRunner().invoke(main, ["report", *map(str, exports), "--source", str(source)])
    assert not {"alice", "bob", "carol"} & set(anonymous.output.replace(":", " ").split())


def test_an_export_without_scheduling_gets_a_one_line_message(tmp_path, drinks):
    source, package, notes = drinks
    bare = student(tmp_path, package, set(), "bare", scheduling=False)
    result = CliRunner().invoke(main, ["report", str(bare), "--source", str(source)])
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr == f"Error: student 1: {NO_SCHEDULING}\n"
    studied = student(tmp_path, package, guids(notes, HARD), "studied")
    mixed = CliRunner().invoke(main, ["report", str(bare), str(studied), "--source", str(source)])
    assert mixed.exit_code == 0
    assert mixed.stderr == f"student 1: {NO_SCHEDULING}\n"
    assert mixed.stdout.startswith("1 student, ")
    other = tmp_path / "bare-again.apkg"
    other.write_bytes(bare.read_bytes())
    with pytest.raises(DeckgenError, match="none of the 2 exports has review history"):
        make_report([str(bare), str(other)], str(source))


def test_a_note_the_source_no_longer_has_is_reported_as_such(tmp_path, drinks):
    source, package, notes = drinks
    exported = student(tmp_path, package, guids(notes, {"ritual"}), "alice")
    ritual = "  - id: ritual\n    perspective: tea\n    title: Ritual\n    explanation: Tea ceremonies are {{formal}}.\n"
    (source / "basics.yaml").write_text(V1.replace(ritual, ""), encoding="utf-8")
    build(BuildConfig(str(source), str(tmp_path / "out2"), timestamp=T2))
    report = make_report([str(exported)], str(source))
    assert {row.place.item for row in report.gone} == {"ritual"} and len(report.gone) == 2
    assert all(row.place.file == f"{source}/deckgen.lock" and row.place.line > 0 for row in report.gone)
    assert "ritual" not in {row.place.item for row in report.rows}
    lines = list(report_lines(report))
    assert "No longer in the source (2 notes students studied):" in lines
    gone = [line for line in lines if line.startswith(f"{source}/deckgen.lock:")]
    assert len(gone) == 2 and all(": ritual: " in line and "no longer in the source: again 50%" in line for line in gone)


def test_a_whole_collection_backup_is_read_too(tmp_path, drinks):
    source, package, notes = drinks
    col = open_collection(tmp_path / "col")
    import_package(col, package)
    study(col, guids(notes, {"storage"}))
    col.export_collection_package(str(tmp_path / "alice.colpkg"), include_media=False, legacy=False)
    col.close()
    report = make_report([str(tmp_path / "alice.colpkg")], str(source))
    assert {row.place.item for row in report.rows[:2]} == {"storage"}


def test_a_file_anki_cannot_read_is_named_in_one_line(tmp_path, drinks):
    source, _, _ = drinks
    bad = tmp_path / "notes.apkg"
    bad.write_text("not a zip", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(bad), "--source", str(source)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {bad}: Anki cannot read this file as a deck package: ")
    assert result.stderr.count("\n") == 1


def test_without_the_anki_package_the_report_says_what_to_install(tmp_path, drinks, monkeypatch):
    source, package, _ = drinks
    monkeypatch.delitem(sys.modules, "generator.connect.exports", raising=False)
    for name in [name for name in sys.modules if name.startswith("anki.")]:
        monkeypatch.delitem(sys.modules, name)  # put back after the test
    monkeypatch.setitem(sys.modules, "anki", None)  # as if it were not installed
    result = CliRunner().invoke(main, ["report", str(package), "--source", str(source)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {MISSING_ANKI}\n"


def test_what_a_review_found_is_refused_in_one_line(tmp_path, drinks):
    """An export given twice counts once; a pipe, a page over an export or the lock, another source: one line each."""
    source, package, notes = drinks
    alice = student(tmp_path, package, guids(notes, HARD), "alice")
    twice = make_report([str(alice), str(alice)], str(source))
    assert twice.students == ("student 1",)
    fifo = tmp_path / "pipe.apkg"
    os.mkfifo(fifo)

    def run(*args: str):
        return CliRunner().invoke(main, ["report", *args])

    refused = {
        "pipe": run(str(fifo), "--source", str(source)),
        "export": run(str(alice), "--source", str(source), "--html", str(alice)),
        "lock": run(str(alice), "--source", str(source), "--html", str(source / "deckgen.lock")),
        "pipe page": run(str(alice), "--source", str(source), "--html", str(fifo)),
        "other source": run(str(alice), "--source", str(BUNDLED_SOURCE)),
    }
    assert {name: (r.exit_code, r.stderr) for name, r in refused.items()} == {
        "pipe": (1, f"Error: {fifo}: not a regular file; give decks exported from Anki (.apkg, .colpkg)\n"),
        "export": (1, f"Error: {alice}: is {alice}, which the report reads; give the page another path\n"),
        "lock": (1, f"Error: {source / 'deckgen.lock'}: is {source / 'deckgen.lock'}, which the report reads; "
                    "give the page another path\n"),
        "pipe page": (1, f"Error: {fifo}: exists and is not a regular file; give the page another path\n"),
        "other source": (1, f"Error: none of the notes studied in 1 export comes from the source {BUNDLED_SOURCE}: "
                            "is it the right --source?\n"),
    }
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and alice.read_bytes()[:2] == b"PK"


# --- untrusted exports: a zip bomb, another deck's export -----------------------------------------


def zip_bomb(path: Path, size: int, name: str = "collection.anki2") -> Path:
    """A zip of one entry *name*: *size* bytes of zeros deflated about 1,000 times (2 GiB in about 2 MB).

    Written by hand, as an attacker would: after a full flush deflate starts
    afresh, so one compressed MiB of zeros repeats (zipfile would spend 20 s
    compressing the zeros).
    """
    zero = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(zero) + deflate.flush(zlib.Z_FULL_FLUSH)
    data = block * (size >> 20) + deflate.flush()
    crc = 0
    for _ in range(size >> 20):
        crc = zlib.crc32(zero, crc)
    n = name.encode()
    local = struct.pack("<4s5H3L2H", b"PK\3\4", 20, 0, 8, 0, 0, crc, len(data), size, len(n), 0) + n
    central = struct.pack("<4s6H3L5H2L", b"PK\1\2", 20, 20, 0, 8, 0, 0, crc, len(data), size, len(n), 0, 0, 0, 0, 0, 0)
    end = struct.pack("<4s4H2LH", b"PK\5\6", 0, 0, 1, 1, len(central) + len(n), len(local) + len(data), 0)
    path.write_bytes(local + data + central + n + end)
    return path


class DiskWatch:
    """Samples, every few milliseconds while the block runs, the bytes of the files under *folder* and their names."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.peak, self.seen = folder, 0, set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.002):
            total = 0
            for root, _, files in os.walk(self.folder):
                for name in files:
                    path = os.path.join(root, name)
                    self.seen.add(os.path.relpath(path, self.folder))
                    with contextlib.suppress(OSError):  # gone between the listing and the stat
                        total += os.stat(path).st_size
            self.peak = max(self.peak, total)

    def __enter__(self) -> DiskWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def system_tmp(tmp_path: Path, monkeypatch) -> Path:
    """The system's temporary folder, as Python (tempfile) and Rust (TMPDIR) find it, empty."""
    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", None)  # tempfile reads TMPDIR again ...
    assert tempfile.gettempdir() == str(folder)  # ... now, with its probe file (created and removed) before any watch
    return folder


def spy_imports(monkeypatch) -> list[str]:
    """The packages given to Anki's importer from now on (it still imports them)."""
    imported: list[str] = []
    original = Collection.import_anki_package

    def spy(self: Collection, request):  # noqa: ANN001, ANN202
        imported.append(request.package_path)
        return original(self, request)

    monkeypatch.setattr(Collection, "import_anki_package", spy)
    return imported


def test_a_zip_bomb_is_refused_unread_and_not_counted(tmp_path, drinks, system_tmp, monkeypatch):
    """2 GiB of zeros in a 2 MB export: refused from the zip's directory, before Anki's importer unpacks a byte."""
    source, package, notes = drinks
    alice = student(tmp_path, package, guids(notes, HARD), "alice")
    bomb = zip_bomb(tmp_path / "bomb.apkg", 2 << 30)
    assert bomb.stat().st_size < 2_200_000
    imported = spy_imports(monkeypatch)
    with DiskWatch(system_tmp) as disk:
        result = CliRunner().invoke(main, ["report", str(bomb), str(alice), "--source", str(source)])
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "student 1: unpacks to 2.0 GiB, more than the 1.0 GiB a student's export can hold (a zip bomb?); not read\n"
    )
    assert result.stdout.startswith("1 student, ")
    assert imported == [str(alice.resolve())]
    assert disk.peak < 20 << 20 and list(system_tmp.iterdir()) == []
    alone = CliRunner().invoke(main, ["report", str(bomb), "--source", str(source)])
    assert (alone.exit_code, alone.stderr) == (1, "Error: " + result.stderr)


def test_an_export_that_unpacks_a_thousand_times_its_size_is_refused(tmp_path, drinks):
    source, _, _ = drinks
    bomb = zip_bomb(tmp_path / "bomb.apkg", 200 << 20)  # under the size cap
    result = CliRunner().invoke(main, ["report", str(bomb), "--source", str(source)])
    assert result.exit_code == 1
    assert re.fullmatch(
        r"Error: student 1: unpacks to 200\.0 MiB from 20\d\.\d KiB, 10\d\d times its size where a deck package is "
        r"at most 100 \(a zip bomb\?\); not read\n", result.stderr
    ), result.stderr


def test_ankis_temporary_files_stay_in_deckgens_folder_and_go_with_it(tmp_path, drinks, system_tmp, monkeypatch):
    """With the caps lifted, Anki really unpacks 64 MiB: inside deckgen's own folder, removed after; none elsewhere."""
    from generator.connect import exports

    source, _, _ = drinks
    monkeypatch.setattr(exports, "RATIO_FLOOR", 1 << 40)
    bomb = zip_bomb(tmp_path / "bomb.apkg", 64 << 20)
    with DiskWatch(system_tmp) as disk, pytest.raises(DeckgenError, match="Anki cannot read this file as a deck package"):
        make_report([str(bomb)], str(source))
    unpacked = [path for path in disk.seen if os.path.basename(path).startswith(".tmp")]  # Rust's tempfile names
    assert unpacked  # Anki's importer did unpack it, ...
    assert {path.split(os.sep)[0][:15] for path in disk.seen} == {"deckgen-report-"}  # ... in deckgen's folder only
    assert list(system_tmp.iterdir()) == [] and os.environ["TMPDIR"] == str(system_tmp)


def test_ctrl_c_during_the_import_leaves_no_temporary_file(tmp_path, drinks, system_tmp, monkeypatch):
    source, package, notes = drinks
    alice = student(tmp_path, package, guids(notes, HARD), "alice")

    def interrupted(self: Collection, request):  # noqa: ANN001, ANN202
        Path(os.environ["TMPDIR"], "half-unpacked").write_bytes(bytes(1 << 20))
        Path(tempfile.gettempdir(), "python-side").write_bytes(b"x")
        raise KeyboardInterrupt

    monkeypatch.setattr(Collection, "import_anki_package", interrupted)
    with pytest.raises(KeyboardInterrupt):
        make_report([str(alice)], str(source))
    assert list(system_tmp.iterdir()) == []
    assert os.environ["TMPDIR"] == tempfile.gettempdir() == str(system_tmp)


def another_deck(tmp_path: Path) -> Path:
    """A student's export of a deck of their own (a Basic note, studied): none of the source's notes."""
    col = open_collection(tmp_path / "col-other")
    try:
        note = col.new_note(col.models.by_name("Basic"))
        note["Front"], note["Back"] = "Capital of France?", "Paris"
        col.add_note(note, col.decks.id("French"))
        study(col, set())
        return export(col, tmp_path / "other.apkg")
    finally:
        col.close()


def test_an_export_of_another_deck_is_named_and_not_counted(tmp_path, drinks):
    source, package, notes = drinks
    other = another_deck(tmp_path)
    alice = student(tmp_path, package, guids(notes, HARD), "alice")
    result = CliRunner().invoke(main, ["report", str(other), str(alice), "--source", str(source)])
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"student 1: holds none of the source's {len(notes)} notes (another deck's export?); not counted\n"
    )
    assert result.stdout.startswith("1 student, ")
    report = make_report([str(other), str(alice)], str(source))
    assert report.students == ("student 2",) and len(report.skipped) == 1
    alone = CliRunner().invoke(main, ["report", str(other), "--source", str(source)])
    assert alone.exit_code == 1 and "none of the notes studied in 1 export comes from the source" in alone.stderr


# --- where --html may write -------------------------------------------------------------------------


def test_the_page_never_replaces_a_source_file_or_anything_but_a_previous_report(tmp_path, drinks):
    source, package, notes = drinks
    alice = student(tmp_path, package, guids(notes, HARD), "alice")
    (tmp_path / "src-link").symlink_to(source)
    notes_file = tmp_path / "notes.html"
    notes_file.write_text("<!DOCTYPE html>\n<p>my own notes</p>\n", encoding="utf-8")
    before = {path: path.read_bytes() for path in [*source.iterdir(), notes_file]}

    def page_at(path: Path):
        return CliRunner().invoke(main, ["report", str(alice), "--source", str(source), "--html", str(path)])

    inside = f"is inside the source folder {source}; give the page a path outside it"
    refused = {
        path: page_at(path)
        for path in (source / "basics.yaml", source / "new.yaml", tmp_path / "src-link" / "basics.yaml", notes_file)
    }
    assert {path: (r.exit_code, r.stderr) for path, r in refused.items()} == {
        source / "basics.yaml": (1, f"Error: {source / 'basics.yaml'}: {inside}\n"),
        source / "new.yaml": (1, f"Error: {source / 'new.yaml'}: {inside}\n"),
        tmp_path / "src-link" / "basics.yaml": (1, f"Error: {tmp_path / 'src-link' / 'basics.yaml'}: {inside}\n"),
        notes_file: (1, f"Error: {notes_file}: exists and is not a page deckgen report wrote; give the page another "
                        "path (or delete the file)\n"),
    }
    assert all(r.stdout == "" for r in refused.values())  # refused before the report is made
    assert {path: path.read_bytes() for path in [*source.iterdir(), notes_file]} == before
    page = tmp_path / "report.html"
    for _ in range(2):  # a previous report is replaced
        result = page_at(page)
        assert result.exit_code == 0, result.output
        assert page.read_text(encoding="utf-8").startswith(REPORT_MARK)


def zstd_bomb(path: Path, size: int) -> Path:
    """A modern export (meta, collection.anki21b) whose collection is zstd run-length blocks of zeros: 4 bytes per
    128 KiB, so the zip's directory shows a small file that Anki's importer unpacks to *size* bytes."""
    block = 1 << 17
    frame = bytearray(struct.pack("<IBB", 0xFD2FB528, 0, 0x38))  # no content size, a 128 KiB window
    count = size // block
    for index in range(count):
        frame += ((block << 3) | (1 << 1) | (index == count - 1)).to_bytes(3, "little") + b"\0"  # an RLE block
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("meta", b"\x08\x03")  # PackageMetadata: version 3, the zstd-packed collection
        archive.writestr("collection.anki21b", bytes(frame))
    return path


def test_a_collection_that_zstd_unpacks_beyond_the_cap_is_stopped_by_the_file_size_limit(
    tmp_path, drinks, system_tmp, monkeypatch
):
    """The zip's directory shows 32 KB; Anki's importer would write 512 MiB: it stops at the cap (64 MiB here)."""
    from generator.connect import exports

    source, _, _ = drinks
    monkeypatch.setattr(exports, "MAX_UNCOMPRESSED", 64 << 20)
    bomb = zstd_bomb(tmp_path / "bomb.apkg", 512 << 20)
    assert bomb.stat().st_size < 40_000
    with DiskWatch(system_tmp) as disk:
        result = CliRunner().invoke(main, ["report", str(bomb), "--source", str(source)])
    assert (result.exit_code, result.stderr) == (
        1, "Error: student 1: unpacks to more than 64.0 MiB (a zip bomb?); not read\n"
    )
    assert disk.peak <= 80 << 20 and list(system_tmp.iterdir()) == []
    import resource

    assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] == resource.RLIM_INFINITY  # given back

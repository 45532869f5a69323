"""Issue 9's hardening: reserved and malformed tags, and outputs that cannot be written.

Every refusal is a located problem or one line naming the value, never a
traceback; exit 1 for content and the environment, 2 for a bad option; and
nothing is written.  (Duplicate perspective and topic names and the reserved
tag in a source are cases of the bad-input corpus, ``tests/bad_inputs/``.)
Tests run as root, which ignores file modes: a read-only folder is simulated
by making the system call fail, and real refusals come from paths no one can
write (under a regular file, a name too long, ``/proc``).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import FrameType

import pytest
from click.testing import CliRunner

import generator
from generator.anki.csvexport import csv_bytes
from generator.cards.notes import MAX_LISTED, NoteSpec, build_notes
from generator.cards.selection import Selection, custom_request
from generator.cli import main
from generator.errors import DeckgenError
from generator.quality.smells import card_smells
from generator.source.content import REMOVED_TAG
from generator.source.loader import is_reserved_tag, load_source

from .support import V1, write_source

VALID = Path(__file__).resolve().parent / "bad_inputs" / "_valid"
LONG = "x" * 300
PROC = Path("/proc")


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A working folder holding the small valid source as ``src/``."""
    shutil.copytree(VALID, tmp_path / "src")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str):  # noqa: ANN201 - click's Result
    return CliRunner().invoke(main, list(args))


def entries(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def assert_one_line_error(result, exit_code: int, message: str) -> None:  # noqa: ANN001
    assert "Traceback" not in result.output, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == exit_code, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == f"Error: {message}", result.stderr


# --- 2. the tag of removed notes is deckgen's own ---------------------------------


@pytest.mark.parametrize("tag", [REMOVED_TAG, REMOVED_TAG.upper(), "Deckgen::Removed::x", f"{REMOVED_TAG}::a::b"])
def test_reserved_tag_is_recognised_in_any_case_with_children(tag):
    assert is_reserved_tag(tag)


@pytest.mark.parametrize("tag", ["deckgen", "deckgen::removed-notes", "deckgen::other", "my::deckgen::removed"])
def test_other_tags_are_not_reserved(tag):
    assert not is_reserved_tag(tag)


@pytest.mark.parametrize("option", ["--extra-tag", "--tag"])
@pytest.mark.parametrize("command", ["build", "plan"])
def test_reserved_tag_option_is_a_usage_error(project, command, option):
    before = entries(project)
    result = invoke(command, "--source", "src", "--deck-name", "Soc 101", option, "Deckgen::Removed::old")
    assert_one_line_error(
        result, 2,
        f"Invalid value for '{option}': tag 'Deckgen::Removed::old' is reserved: '{REMOVED_TAG}' and its children "
        "mark notes removed from the source, which students delete",
    )
    assert entries(project) == before


def test_a_tag_merely_beside_the_reserved_one_is_built(project):
    result = invoke("build", "--source", "src", "--deck-name", "Soc 101", "--extra-tag", "deckgen::removed-later")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", ["", " ", "\t  "])
@pytest.mark.parametrize("command", ["build", "plan"])
def test_an_empty_deck_name_is_a_usage_error_not_a_default_build(project, command, name):
    """Issue 16: '--deck-name ""' is falsy, and used to build the default decks without a word."""
    before = entries(project)
    result = invoke(command, "--source", "src", "--deck-name", name)
    assert_one_line_error(result, 2, "Invalid value for '--deck-name': a deck name may not be empty")
    assert entries(project) == before


@pytest.mark.parametrize("key", ["extra_tags", "tags"])
def test_reserved_tag_in_a_recipe_is_located(project, key):
    recipe = project / "course.yaml"
    recipe.write_text(f"source: src\ndecks:\n  - name: Week 1\n    {key}:\n      - ok\n      - {REMOVED_TAG}\n")
    before = entries(project)
    result = invoke("build", "--recipe", "course.yaml")
    assert "Traceback" not in result.output
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"course.yaml:6: decks[0].{key}: tag '{REMOVED_TAG}' is reserved: '{REMOVED_TAG}' and its children mark "
        "notes removed from the source, which students delete",
        "Error: 1 problem found; nothing was written.",
    ]
    assert entries(project) == before


def test_the_library_refuses_a_reserved_extra_tag():
    tag = REMOVED_TAG.title()
    with pytest.raises(DeckgenError) as caught:
        custom_request("Week 1", Selection(), [tag])
    assert str(caught.value) == (
        f"tag {tag!r} is reserved: '{REMOVED_TAG}' and its children mark notes removed from the source, "
        "which students delete"
    )


# --- 4. a tag is one word ---------------------------------------------------------


@pytest.mark.parametrize("file_format", ["apkg", "csv"])
@pytest.mark.parametrize("tag", ["Soc 101", "soc\t101", "soc\n101", " soc101"])
def test_extra_tag_with_whitespace_is_a_usage_error(project, file_format, tag):
    before = entries(project)
    result = invoke("build", "--source", "src", "--format", file_format, "--deck-name", "Soc", "--extra-tag", tag)
    assert_one_line_error(
        result, 2, f"Invalid value for '--extra-tag': tag {tag!r} may not contain spaces or start or end with ':'"
    )
    assert entries(project) == before


@pytest.mark.parametrize("tag", ["Soc 101", "", ":soc", "soc::"])
def test_tag_filter_that_can_match_nothing_is_a_usage_error(project, tag):
    result = invoke("build", "--source", "src", "--tag", tag)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.splitlines()[-1].startswith("Error: Invalid value for '--tag': ")
    assert not (project / "decks_out").exists()


def test_recipe_tag_with_a_space_is_located_at_its_entry(project):
    (project / "course.yaml").write_text("source: src\ndecks:\n  - name: A\n    extra_tags:\n      - ok\n      - a b\n")
    result = invoke("build", "--recipe", "course.yaml")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "course.yaml:6: decks[0].extra_tags: tag 'a b' may not contain spaces"


def test_the_library_refuses_a_tag_with_whitespace():
    with pytest.raises(DeckgenError) as caught:
        custom_request("Week 1", Selection(), ["Soc 101"])
    assert str(caught.value) == "tag 'Soc 101' may not contain spaces or start or end with ':'"


def test_csv_never_splits_a_tag():
    note = build_notes(load_source(str(VALID)))[0]
    tags = (*note.tags, "Soc 101")
    with pytest.raises(DeckgenError) as caught:
        csv_bytes([replace(note, tags=tags)])
    assert str(caught.value) == f"note {note.guid}: a tag is empty or contains whitespace: {list(tags)!r}"


# --- 5. outputs that cannot be written ----------------------------------------------


@pytest.mark.parametrize(
    "out, reason",
    [
        ("plain/preview.html", "Not a directory"),
        ("plain/sub/preview.html", "Not a directory"),
        (f"{LONG}.html", "File name too long"),
        (f"{LONG}/preview.html", "File name too long"),
        (f"new/{LONG}/preview.html", "File name too long"),
    ],
    ids=["under-a-file", "deeper-under-a-file", "name-too-long", "folder-name-too-long", "made-folder-removed"],
)
def test_preview_to_an_unwritable_path(project, out, reason):
    (project / "plain").write_text("a regular file\n")
    before = entries(project)
    result = invoke("preview", "--source", "src", "--out", out)
    assert_one_line_error(result, 1, f"cannot write {out}: {reason}")
    assert entries(project) == before


@pytest.mark.skipif(not PROC.is_dir(), reason="no /proc here")
@pytest.mark.parametrize("out", ["/proc/deckgen-test", "/proc/deckgen-test/preview.html"])
def test_preview_under_proc(project, out):
    result = invoke("preview", "--source", "src", "--out", out)
    assert "Traceback" not in result.output
    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1
    page = out if out.endswith(".html") else f"{out}/preview.html"  # --out is the decks' folder, or the page
    assert result.stderr.startswith(f"Error: cannot write {page}: ")
    assert not os.path.exists("/proc/deckgen-test")


def refuse(error_number: int):  # noqa: ANN201
    def fail(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise OSError(error_number, os.strerror(error_number))

    return fail


def test_preview_into_a_read_only_folder(project, monkeypatch):
    """Root writes anywhere: the refusal is made where the file is created."""
    real_open = os.open

    def no_new_files(path, flags, *args):  # noqa: ANN001, ANN002, ANN202
        if flags & os.O_CREAT:
            raise OSError(errno.EACCES, os.strerror(errno.EACCES))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", no_new_files)
    result = invoke("preview", "--source", "src", "--out", "new/folder/preview.html")
    assert_one_line_error(result, 1, "cannot write new/folder/preview.html: Permission denied")
    assert not (project / "new").exists()  # the folders made for it are gone again


def test_preview_on_a_full_disk_keeps_the_old_page(project, monkeypatch):
    assert invoke("preview", "--source", "src", "--out", "out/preview.html").exit_code == 0
    page = (project / "out" / "preview.html").read_bytes()
    monkeypatch.setattr(os, "fsync", refuse(errno.ENOSPC))
    result = invoke("preview", "--source", "src", "--out", "out/preview.html")
    assert_one_line_error(result, 1, "cannot write out/preview.html: No space left on device")
    assert entries(project / "out") == ["preview.html"]  # no temporary left
    assert (project / "out" / "preview.html").read_bytes() == page


def test_a_full_disk_that_leaves_no_room_for_the_holders_record_is_no_traceback(project, monkeypatch):
    """The record in ``.deckgen-writing`` only names who holds a folder: with no room for it, a build that has
    nothing to write still succeeds, and one that writes says, in one line, what it could not write."""
    assert invoke("build", "--source", "src", "--out", "out").exit_code == 0
    real_write = os.write

    def full(fd: int, data: bytes) -> int:
        if data.startswith(b'{"pid"'):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full)
    unchanged = invoke("build", "--source", "src", "--out", "out")
    assert unchanged.exit_code == 0 and "Traceback" not in unchanged.output, unchanged.output
    monkeypatch.setattr(os, "fsync", refuse(errno.ENOSPC))
    (project / "src" / "basics.yaml").write_text((VALID / "basics.yaml").read_text(encoding="utf-8") + "# edit\n")
    edited = invoke("build", "--source", "src", "--out", "out")
    assert edited.exit_code == 1 and "Traceback" not in edited.output
    assert "No space left on device" in edited.stderr.splitlines()[-1]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.parametrize("name", [".deckgen-cache.json", "basics.apkg"])
def test_a_pipe_where_the_build_reads_its_cache_or_a_package_never_blocks_it(project, name):
    """Opening a named pipe for reading waits for a writer that never comes: the build reads regular files only."""
    import subprocess

    assert invoke("build", "--source", "src", "--out", "out").exit_code == 0
    (project / "out" / name).unlink()
    os.mkfifo(project / "out" / name)
    command = [sys.executable, "-m", "generator", "build", "-q", "--source", "src", "--out", "out"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert (project / "out" / name).is_file()  # the build replaced the pipe with what it wrote


def test_preview_of_a_bad_source_makes_no_folder(project):
    (project / "src" / "basics.yaml").write_text("topic: basics\n")
    result = invoke("preview", "--source", "src", "--out", "new/preview.html")
    assert result.exit_code == 1
    assert not (project / "new").exists()


@pytest.mark.parametrize(
    "folder, reason",
    [("plain/course", "Not a directory"), (LONG, "File name too long"), (f"a/{LONG}/b", "File name too long")],
    ids=["under-a-file", "name-too-long", "made-folder-removed"],
)
def test_new_in_an_unwritable_place(project, folder, reason):
    (project / "plain").write_text("a regular file\n")
    before = entries(project)
    result = invoke("new", folder, "--title", "Course")
    assert_one_line_error(result, 1, f"cannot write {folder}: {reason}")
    assert entries(project) == before


@pytest.mark.skipif(not PROC.is_dir(), reason="no /proc here")
def test_new_under_proc(project):
    result = invoke("new", "/proc/deckgen-test", "--title", "Course")
    assert "Traceback" not in result.output
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot write /proc/deckgen-test: ")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("error_number", [errno.EACCES, errno.ENOSPC])
def test_new_that_fails_half_way_leaves_nothing(project, monkeypatch, error_number):
    import generator.authoring.starter as starter

    real_open = open
    opened = []

    def second_file_fails(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        opened.append(path)
        if len(opened) == 2:
            raise OSError(error_number, os.strerror(error_number), path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(starter, "open", second_file_fails, raising=False)
    before = entries(project)
    result = invoke("new", "deep/course")
    assert_one_line_error(result, 1, f"cannot write deep/course: {os.strerror(error_number)}")
    assert entries(project) == before


@pytest.mark.parametrize("folder", ["", "  "])
def test_new_with_an_empty_folder_name_is_a_usage_error_that_writes_nothing(project, folder):
    before = entries(project)
    result = invoke("new", folder)
    assert result.exit_code == 2 and "FOLDER is empty" in result.stderr
    assert entries(project) == before


def test_new_in_a_folder_that_cannot_be_listed(project, monkeypatch):
    (project / "course").mkdir()
    monkeypatch.setattr(os, "listdir", refuse(errno.EACCES))
    result = invoke("new", "course")
    assert_one_line_error(result, 1, "cannot write course: Permission denied")


@pytest.mark.parametrize("value", ["²", "1e9", "-5", "99999999999999999999", "12 34"])
def test_an_unusable_source_date_epoch_is_one_line_not_a_traceback(tmp_path, monkeypatch, value):
    source = write_source(tmp_path / "src", V1)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    result = CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().endswith(f"SOURCE_DATE_EPOCH must be a whole number of seconds from 0 to 253402300799, not {value!r}")
    assert not (tmp_path / "out").exists()


def test_a_lock_that_is_a_device_is_refused_by_build_too(tmp_path):
    source = write_source(tmp_path / "src", V1)
    result = CliRunner().invoke(
        main, ["build", "--source", str(source), "--out", str(tmp_path / "out"), "--lock", "/dev/zero"]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "/dev/zero:1: is not a regular file" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["build", "--out", "{file}/out"],
        ["build", "--out", LONG],
        ["build", "--out", "/proc/deckgen-test-out"],
        ["build", "--lock", "{file}/deckgen.lock", "--out", "out"],
        ["build", "--format", "csv", "--out", "{file}/out"],
        ["preview", "--out", "{file}/page.html"],
        ["preview", "--out", f"{LONG}.html"],
        ["new", "{file}/course"],
        ["new", LONG],
        ["check", "--source", "{file}/src"],
    ],
    ids=lambda c: " ".join(c).replace("x" * 300, "<300 chars>"),
)
def test_every_command_meets_an_unwritable_place_with_one_line(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(Path(__file__).parent / "sources" / "schools", tmp_path / "src")
    (tmp_path / "afile").write_text("a regular file", encoding="utf-8")
    args = [arg.replace("{file}", "afile") for arg in command]
    if args[0] != "new" and "--source" not in args:
        args[1:1] = ["--source", "src"]
    before = sorted(p.name for p in tmp_path.iterdir())
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines()[-1].startswith("Error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing made, nothing left behind


def test_control_and_bidi_characters_are_escaped_in_every_problem_line(tmp_path):
    source = write_source(tmp_path / "src", "topic: basics\nname: Basics\nitems:\n  - id: x\n    explanation: 'a {{b'\n")
    odd = source / "two\nlines\u202eevil.yaml"
    odd.write_text("topic: more\nname: More\nitems:\n  - id: y\n    explanation: 'c {{d'\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--source", str(source)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 3  # two problems and the count: the line break in a file name splits nothing
    assert f"{source}/two\\nlines\\u202eevil.yaml:5: items[0] (y).explanation:" in lines[1]
    assert all(line.isprintable() for line in lines)


@pytest.mark.parametrize("args", [["日本語の講座"], ["c5", "--title", "yes"], ["c6", "--title", "1.10"]])
def test_every_starter_passes_a_strict_check(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["new", *args]).exit_code == 0
    result = CliRunner().invoke(main, ["check", "--strict", "--source", args[0]])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


# --- issue 16: one item of many marked points ----------------------------------------


def _many_points(folder: Path, count: int) -> Path:
    """A source of one item with *count* marked points."""
    points = "".join(f"      p{i}: Point {i} is about {{{{term {i}}}}}\n" for i in range(count))
    item = '  - id: big\n    title: "{{Big}}"\n    points:\n'
    return write_source(folder, f"topic: basics\nname: Basics\nitems:\n{item}{points}")


def _many_terms(folder: Path, count: int) -> Path:
    """A source of one item whose explanation has *count* sentences, each with a key term, and 40 points."""
    said = " ".join(f"Sentence {i} names {{{{term {i}}}}}." for i in range(count))
    points = "".join(f"      p{i}: Point {i}\n" for i in range(40))
    item = f'  - id: big\n    title: Big\n    explanation: "{said}"\n    points:\n{points}'
    return write_source(folder, f"topic: basics\nname: Basics\nitems:\n{item}")


def _lines_run(work: Callable[[], object]) -> int:
    """Lines of deckgen's own code that *work* executes: a measure of work that no machine's speed changes."""
    root = str(Path(generator.__file__).parent)
    count = 0

    def local(frame: FrameType, event: str, arg: object) -> Callable[..., object]:
        nonlocal count
        count += event == "line"
        return local

    def enter(frame: FrameType, event: str, arg: object) -> Callable[..., object] | None:
        return local if frame.f_code.co_filename.startswith(root) else None

    sys.settrace(enter)
    try:
        work()
    finally:
        sys.settrace(None)
    return count


def test_an_item_of_many_marked_points_is_linear_work(tmp_path):
    """Every back listed every other point, and smells compared every pair: N² (20 s at 5,000 points).

    Three times the points must be about three times the work (it was nine);
    benchmarks/points.py times it.
    """

    def work(make: Callable[[Path, int], Path], count: int) -> int:
        source = load_source(str(make(tmp_path / f"{make.__name__}{count}", count)))
        return _lines_run(lambda: card_smells(source, build_notes(source)))

    for make in (_many_points, _many_terms):  # marked points, and key terms of one explanation
        small, large = work(make, 200), work(make, 600)
        assert large < 3.5 * small, (make.__name__, small, large)


def test_a_back_lists_a_window_of_an_item_of_many_points(tmp_path):
    notes = build_notes(load_source(str(_many_points(tmp_path / "src", 200))))
    extras = {note.part: note.field("Extra") for note in notes}
    assert len(extras) == 201  # the title, and each point
    assert max(extra.count("<li") for extra in extras.values()) == MAX_LISTED + 2
    listed = re.findall(r"<li[^>]*>(.*?)</li>", extras["point/p100"])
    start = 100 - MAX_LISTED // 2
    assert listed == [
        f"… {start} earlier points",
        *(f"Point {i} is about term {i}" for i in range(start, start + MAX_LISTED + 1) if i != 100),
        f"… {200 - start - MAX_LISTED - 1} more points",
    ]
    assert re.findall(r"<li[^>]*>(.*?)</li>", extras["point/p0"])[-1] == f"… {200 - MAX_LISTED - 1} more points"
    assert re.findall(r"<li[^>]*>(.*?)</li>", extras["point/p199"])[0] == f"… {200 - MAX_LISTED - 1} earlier points"
    assert re.findall(r"<li[^>]*>(.*?)</li>", extras["title"])[-1] == f"… {200 - MAX_LISTED} more points"
    assert sum(len(field) for note in notes for field in note.fields) < 2_000 * len(notes)


def test_a_back_shows_a_window_of_a_long_explanation(tmp_path):
    notes = build_notes(load_source(str(_many_terms(tmp_path / "src", 200))))
    extras = {note.part: note.field("Extra") for note in notes}
    body = re.search(r'<div class="body">(.*?)</div>', extras["term/explanation/term-100"])
    assert body is not None
    start = 100 - MAX_LISTED // 2
    shown = [f"Sentence {i} names term {i}." for i in range(start, start + MAX_LISTED + 1) if i != 100]
    assert body[1] == "… " + " ".join(shown) + " …"
    assert extras["term/explanation/term-100"].count("<li") == MAX_LISTED + 1  # the first 30 points, "… 10 more"
    assert sum(len(field) for note in notes for field in note.fields) < 5_000 * len(notes)


def test_an_item_of_few_points_lists_every_other_point(tmp_path):
    notes = build_notes(load_source(str(_many_points(tmp_path / "src", MAX_LISTED + 1))))
    extra = next(note.field("Extra") for note in notes if note.part == "point/p7")
    assert extra.count("<li>") == MAX_LISTED and "more" not in extra and "Point 7 " not in extra


# --- rough edges of issue 9 -----------------------------------------------------


def _cli(*args):
    return CliRunner().invoke(main, list(args))


def _drinks(tmp_path):
    return write_source(tmp_path / "src", V1)


def test_plan_refuses_an_empty_selection_as_build_does(tmp_path):
    source = _drinks(tmp_path)
    for command in ("plan", "build"):
        result = _cli(command, "--source", str(source), "--out", str(tmp_path / "out"), "--tag", "no-such-tag")
        assert result.exit_code == 1 and result.stderr == "Error: the selection matches no notes; nothing was written\n"


def test_hidden_files_are_not_topics_and_the_extension_case_does_not_matter(tmp_path):
    source = _drinks(tmp_path)
    (source / ".#basics.yaml").write_text("not: [yaml", encoding="utf-8")  # an editor's lock file
    (source / ".backup.yaml").write_text("topic: x\n", encoding="utf-8")
    (source / "MORE.YAML").write_text(
        "topic: more\nname: More\nitems:\n  - id: extra\n    explanation: Also {{this}}.\n", encoding="utf-8"
    )
    result = _cli("check", "--source", str(source))
    assert result.exit_code == 0, result.output
    assert ": OK: 2 topics," in result.stdout


def test_a_lock_that_is_a_symbolic_link_stays_one(tmp_path):
    source = _drinks(tmp_path)
    elsewhere = tmp_path / "locks" / "drinks.lock"
    elsewhere.parent.mkdir()
    (source / "deckgen.lock").symlink_to(elsewhere)
    assert _cli("build", "--source", str(source), "--out", str(tmp_path / "out")).exit_code == 0
    assert (source / "deckgen.lock").is_symlink() and elsewhere.is_file()
    assert '"notes"' in elsewhere.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["basics.apkg", ".deckgen-cache.json", ".deckgen-topics.pickle"])
def test_a_link_in_the_out_folder_is_replaced_never_written_through(tmp_path, name):
    """A link committed with an output folder (or left there) must not make a build overwrite what it points at."""
    source = _drinks(tmp_path)
    out = tmp_path / "out"
    args = ("build", "--source", str(source), "--out", str(out))
    assert _cli(*args).exit_code == 0
    victim = tmp_path / "victim"
    victim.write_text("precious\n", encoding="utf-8")
    (out / name).unlink()
    (out / name).symlink_to(victim)
    topic = source / "basics.yaml"
    topic.write_text(topic.read_text(encoding="utf-8").replace("Pour {{hot water}}", "Pour {{hot}} water"))
    assert _cli(*args).exit_code == 0
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert not (out / name).is_symlink() and (out / name).stat().st_size > 0


def test_a_custom_deck_never_overwrites_a_topic_package(tmp_path):
    source = _drinks(tmp_path)
    result = _cli("build", "--source", str(source), "--out", str(tmp_path / "out"), "--deck-name", "Basics")
    assert result.exit_code == 1 and not (tmp_path / "out").exists()
    assert "would be written to basics.apkg, the package of topic 'basics'" in result.stderr
    recipe = tmp_path / "course.yaml"
    recipe.write_text("decks:\n  - name: Week 1\n    file: basics\n", encoding="utf-8")
    result = _cli("build", "--source", str(source), "--recipe", str(recipe), "--out", str(tmp_path / "out"))
    assert result.exit_code == 1 and not (tmp_path / "out").exists()
    assert f"{recipe}:3: decks[0].file: would be written to basics.apkg" in result.stderr


def test_csv_fields_never_start_a_spreadsheet_formula(tmp_path):
    note = NoteSpec("k", "guid", "cloze", ("=HYPERLINK(x)", "+1", "-2", "@SUM(A1)"), ("t",), "Deck", "t", None, 1, "l")
    row = csv_bytes([note]).decode().splitlines()[-1].split("\t")
    assert row[4:] == ["&#61;HYPERLINK(x)", "&#43;1", "&#45;2", "&#64;SUM(A1)"]
    source = _drinks(tmp_path)
    result = _cli("build", "--source", str(source), "--format", "csv", "--deck-name", "=cmd", "--out", str(tmp_path / "o"))
    assert result.exit_code == 1 and "would take it for a formula" in result.stderr


def test_a_recipe_source_and_a_different_source_option_are_a_usage_error(tmp_path):
    source = _drinks(tmp_path)
    recipe = tmp_path / "course.yaml"
    recipe.write_text("source: src\ndecks:\n  - name: Week 1\n", encoding="utf-8")
    other = tmp_path / "other"
    other.mkdir()
    result = _cli("build", "--recipe", str(recipe), "--source", str(other), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and f"and the recipe's source {source} differ" in result.output
    assert _cli("build", "--recipe", str(recipe), "--source", str(source), "--out", str(tmp_path / "out")).exit_code == 0


def test_a_package_no_topic_writes_is_reported(tmp_path):
    source = _drinks(tmp_path)
    out = tmp_path / "out"
    assert _cli("build", "--source", str(source), "--out", str(out)).exit_code == 0
    (source / "basics.yaml").rename(source / "drinks.yaml")
    text = (source / "drinks.yaml").read_text(encoding="utf-8").replace("topic: basics", "topic: drinks")
    (source / "drinks.yaml").write_text(text, encoding="utf-8")
    result = _cli("build", "--source", str(source), "--out", str(out))
    assert result.exit_code == 0
    assert f"note: {out / 'basics.apkg'} is not built from this source (no such topic)" in result.stderr
    assert (out / "basics.apkg").exists()  # reported, not deleted

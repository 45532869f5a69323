"""The bad-input corpus: every malformed source is refused with located errors.

Each folder of ``tests/bad_inputs/`` is a complete source: ``_valid/`` with
one part broken.  Its ``expected.txt`` holds the exact problem lines that
``deckgen build`` must print (paths relative to the case folder, the folder
itself as ``.``); the count line that follows them is checked too.  Every case
must exit 1, without a traceback, and write nothing: no output folder, no lock,
no change to the source.

Folders with an ``accepted.txt`` instead are sources that *look* hostile (HTML
and script in text, deck names full of ``../``) but are valid: text is escaped,
deck names never become file names.  They must build, write exactly the files
listed, and put no markup of their own into a note.

Inputs that a repository cannot hold well (bytes that are not UTF-8, a BOM,
raw control characters, a huge file, symbolic links, a pipe, a directory named
``*.yaml``) are made at test time from ``_valid/`` by :data:`GENERATED`.

After changing a message on purpose, refresh the expectations with
``DECKGEN_UPDATE_CORPUS=1 python -m pytest tests/test_corpus.py`` and review
the diff of ``tests/bad_inputs/``.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.source.yamlread import MAX_FILE_BYTES

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
VALID = CORPUS / "_valid"
UPDATE = bool(os.environ.get("DECKGEN_UPDATE_CORPUS"))

REFUSED = sorted(p for p in CORPUS.iterdir() if (p / "expected.txt").exists())
ACCEPTED = sorted(p for p in CORPUS.iterdir() if (p / "accepted.txt").exists())
MARKERS = shutil.ignore_patterns("expected.txt", "accepted.txt")


def run_build(source: Path, out: Path):  # noqa: ANN201 - click's Result
    return CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(out)])


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry under *folder*: file bytes, or what a link points to, or a marker."""
    entries: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            entries[key] = "-> " + os.readlink(path)
        elif path.is_file():
            entries[key] = path.read_bytes()
        else:
            entries[key] = "<not a regular file>"
    return entries


def relative(line: str, source: Path) -> str:
    return line.replace(f"{source}/", "").replace(str(source), ".")


def assert_refused(source: Path, out: Path, expected: list[str], record: Path | None = None) -> None:
    """Build *source*: exit 1, exactly *expected* (then the count), nothing written."""
    before = snapshot(source) if source.is_dir() else None
    result = run_build(source, out)
    assert "Traceback" not in result.output, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, result.output
    lines = [relative(line, source) for line in result.stderr.splitlines()]
    if record is not None and UPDATE:
        record.write_text("".join(line + "\n" for line in lines[:-1]), encoding="utf-8")
        expected = lines[:-1]
    count = len(expected)
    assert lines[:-1] == expected
    assert lines[-1] == f"Error: {count} problem{'s' if count != 1 else ''} found; nothing was written."
    # plan and check refuse exactly what build refuses, with the same lines
    for command in ("plan", "check"):
        other = CliRunner().invoke(main, [command, "--source", str(source), "--out", str(out)][: 3 if command == "check" else 5])
        other_lines = [relative(line, source) for line in other.stderr.splitlines()]
        assert other.exit_code == 1 and other_lines[:-1] == lines[:-1], command
        footer = lines[-1] if command == "plan" else lines[-1].replace("; nothing was written.", ".")
        assert other_lines[-1] == footer, command  # check writes nothing, so it does not say so
    assert not out.exists()
    if before is not None:
        assert snapshot(source) == before  # no lock, no temporary file, nothing changed


def copy_case(case: Path, tmp_path: Path) -> Path:
    """The case's source in a private folder (symbolic links copied as links)."""
    source = tmp_path / case.name
    shutil.copytree(case, source, symlinks=True, ignore=MARKERS)
    return source


def test_corpus_is_large_enough():
    assert len(REFUSED) + len(GENERATED) >= 60


def test_the_valid_source_builds(tmp_path):
    result = run_build(copy_case(VALID, tmp_path), tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        ".deckgen-cache.json", ".deckgen-topics.pickle", "basics.apkg",
    ]


@pytest.mark.parametrize("case", REFUSED, ids=[p.name for p in REFUSED])
def test_bad_input_is_refused(tmp_path, case):
    expected_file = case / "expected.txt"
    expected = expected_file.read_text(encoding="utf-8").splitlines()
    assert expected or UPDATE, f"{expected_file} is empty"
    assert_refused(copy_case(case, tmp_path), tmp_path / "out", expected, record=expected_file)


# --- cases made at test time ----------------------------------------------------

TOPIC = (VALID / "basics.yaml").read_text(encoding="utf-8")
CONFIG = (VALID / "deckgen.yaml").read_text(encoding="utf-8")
HUGE = MAX_FILE_BYTES + 1


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda source: (source / name).write_bytes(data)


def _link(name: str, target: str) -> Callable[[Path], None]:
    def make(source: Path) -> None:
        (source / name).unlink(missing_ok=True)
        (source / name).symlink_to(target)

    return make


def _config_directory(source: Path) -> None:
    (source / "deckgen.yaml").unlink()
    (source / "deckgen.yaml").mkdir()
    (source / "deckgen.yaml" / "nested.yaml").write_text(CONFIG, encoding="utf-8")


def _padded(size: int) -> bytes:
    """The valid topic followed by a comment, *size* bytes in all."""
    data = TOPIC.encode()
    return data + b"#" * (size - len(data) - 1) + b"\n"


def _with_title(title: bytes) -> bytes:
    return TOPIC.encode().replace(b"title: Origin", b"title: " + title)


def _without_config_and_utf8(source: Path) -> None:
    """Two files wrong at once: both are reported, each at its own file."""
    (source / "deckgen.yaml").unlink()
    (source / "basics.yaml").write_bytes(TOPIC.encode() + b"# caf\xe9\n")


GENERATED: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "non-utf8-latin1": (
        _write("basics.yaml", _with_title(b"Caf\xe9 origins")),
        ["basics.yaml:6: is not valid UTF-8 (byte 0xe9); save it as UTF-8"],
    ),
    "non-utf8-utf16": (
        _write("basics.yaml", TOPIC.encode("utf-16")),
        ["basics.yaml:1: is not valid UTF-8 (byte 0xff); save it as UTF-8"],
    ),
    "non-utf8-encoded-surrogate": (
        _write("basics.yaml", _with_title(b"\xed\xa0\x80")),
        ["basics.yaml:6: is not valid UTF-8 (byte 0xed); save it as UTF-8"],
    ),
    "missing-config-and-non-utf8": (
        _without_config_and_utf8,
        [
            "basics.yaml:16: is not valid UTF-8 (byte 0xe9); save it as UTF-8",
            "deckgen.yaml:1: missing: a source folder needs a deckgen.yaml (see README)",
        ],
    ),
    "utf8-bom-topic": (
        _write("basics.yaml", b"\xef\xbb\xbf" + TOPIC.encode()),
        ["basics.yaml:1: starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM"],
    ),
    "utf8-bom-config": (
        _write("deckgen.yaml", b"\xef\xbb\xbf" + CONFIG.encode()),
        ["deckgen.yaml:1: starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM"],
    ),
    "bom-inside-text": (
        _write("basics.yaml", _with_title("Ori\ufeffgin".encode())),
        ["basics.yaml:6: items[0] (origin).title: contains a stray byte-order mark U+FEFF; remove it"],
    ),
    "raw-control-character": (
        _write("basics.yaml", _with_title(b"Ori\x07gin")),
        ["basics.yaml:6: contains the character U+0007, which YAML does not allow; remove it"],
    ),
    "raw-nul-byte": (
        _write("basics.yaml", TOPIC.encode() + b"\x00"),
        ["basics.yaml:16: contains the character U+0000, which YAML does not allow; remove it"],
    ),
    "raw-delete-character-after-non-ascii": (
        _write("basics.yaml", _with_title("Orig\u00efn \U0001f375\x7f".encode())),
        ["basics.yaml:6: contains the character U+007F, which YAML does not allow; remove it"],
    ),
    "huge-file": (
        _write("basics.yaml", _padded(HUGE)),
        [f"basics.yaml:1: the file is {HUGE:,} bytes; the limit is {MAX_FILE_BYTES:,} (split it into several files)"],
    ),
    "directory-named-yaml": (
        lambda source: (source / "more.yaml").mkdir(),
        ["more.yaml:1: is a directory, not a YAML file"],
    ),
    "config-is-a-directory": (
        _config_directory,
        ["deckgen.yaml:1: is a directory, not a YAML file"],
    ),
    "dangling-symlink": (
        _link("more.yaml", "drafts/more.yaml"),
        ["more.yaml:1: is a symbolic link to 'drafts/more.yaml', which does not exist"],
    ),
    "config-dangling-symlink": (
        _link("deckgen.yaml", "../shared/deckgen.yaml"),
        ["deckgen.yaml:1: is a symbolic link to '../shared/deckgen.yaml', which does not exist"],
    ),
    "symlink-loop": (
        _link("more.yaml", "more.yaml"),
        ["more.yaml:1: cannot be read: Too many levels of symbolic links"],
    ),
    "symlink-to-endless-device": (
        _link("more.yaml", "/dev/zero"),
        ["more.yaml:1: is not a regular file (a device, pipe or socket); save the source as a plain file"],
    ),
    "named-pipe": (
        lambda source: os.mkfifo(source / "more.yaml"),
        ["more.yaml:1: is not a regular file (a device, pipe or socket); save the source as a plain file"],
    ),
    "unreadable-file": (
        lambda source: (source / "basics.yaml").chmod(0),
        ["basics.yaml:1: cannot be read: Permission denied"],
    ),
    "file-name-not-utf8": (
        lambda source: os.rename(os.fsencode(source / "basics.yaml"), os.fsencode(source / "basics") + b"\xff.yaml"),
        ["basics\\udcff.yaml:1: the file's name is not UTF-8 text; rename it"],
    ),
}
_NEEDS = {
    "symlink-to-endless-device": (os.path.exists("/dev/zero"), "no /dev/zero here"),
    "named-pipe": (hasattr(os, "mkfifo"), "no named pipes here"),
    # root reads a file whatever its mode: test_unreadable_file_even_as_root stands in
    "unreadable-file": (hasattr(os, "geteuid") and os.geteuid() != 0, "running as root, which can read any file"),
    "file-name-not-utf8": (sys.platform.startswith("linux"), "a file system that takes any bytes in a name"),
}


@pytest.mark.parametrize("name", GENERATED, ids=list(GENERATED))
def test_generated_bad_input_is_refused(tmp_path, name):
    possible, reason = _NEEDS.get(name, (True, ""))
    if not possible:
        pytest.skip(reason)
    make, expected = GENERATED[name]
    source = copy_case(VALID, tmp_path)
    make(source)
    assert_refused(source, tmp_path / "out", expected)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a file system that takes any bytes in a name")
def test_a_file_renamed_so_its_name_is_not_utf8_is_refused_by_a_rebuild(tmp_path):
    """The rebuild reads the last build's cache first: it hashes the name too, and the load says what is wrong."""
    source, out = copy_case(VALID, tmp_path), tmp_path / "out"
    assert run_build(source, out).exit_code == 0
    os.rename(os.fsencode(source / "basics.yaml"), os.fsencode(source / "basics") + b"\xff.yaml")
    result = run_build(source, out)
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.output
    assert "basics\\udcff.yaml:1: the file's name is not UTF-8 text; rename it" in result.stderr


def test_a_file_at_the_size_limit_is_read(tmp_path):
    source = copy_case(VALID, tmp_path)
    (source / "basics.yaml").write_bytes(_padded(MAX_FILE_BYTES))
    result = run_build(source, tmp_path / "out")
    assert result.exit_code == 0, result.output


def test_missing_source_folder(tmp_path):
    assert_refused(tmp_path / "nowhere", tmp_path / "out", [".:1: no such source folder"])


# --- hostile but valid ------------------------------------------------------------

DECKGEN_MARKUP = re.compile(r"</?(?:div|span|b|ul|li|br|hr)(?: (?:class|id)=\"[a-z-]+\")?>")
"""The only tags deckgen itself writes into note fields."""


def note_fields(package: Path) -> list[str]:
    with zipfile.ZipFile(package) as archive:
        data = archive.read("collection.anki2")
    database = package.with_suffix(".anki2")
    database.write_bytes(data)
    try:
        with sqlite3.connect(database) as connection:
            return [field for (flds,) in connection.execute("select flds from notes") for field in flds.split("\x1f")]
    finally:
        database.unlink()


@pytest.mark.parametrize("case", ACCEPTED, ids=[p.name for p in ACCEPTED])
def test_hostile_looking_source_builds_as_text(tmp_path, case):
    source = copy_case(case, tmp_path)
    out = tmp_path / "out"
    result = run_build(source, out)
    assert result.exit_code == 0, result.output
    expected_files = (case / "accepted.txt").read_text(encoding="utf-8").split()
    assert sorted(p.name for p in out.iterdir()) == sorted(expected_files)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([source.name, "out"])  # nothing escaped
    for package in out.glob("*.apkg"):
        for field in note_fields(package):
            left = DECKGEN_MARKUP.sub("", field)
            assert "<" not in left and ">" not in left, field
            assert "{{" not in left.replace("{{c1::", ""), field


def test_unreadable_file_even_as_root(tmp_path, monkeypatch):
    """Root reads a file whatever its mode, so the refusal is simulated where it happens."""
    real_open = os.open  # where generator.source.guarded opens every file deckgen did not make

    def refuse_basics(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        if str(path).endswith("basics.yaml"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse_basics)
    source = copy_case(VALID, tmp_path)
    assert_refused(source, tmp_path / "out", ["basics.yaml:1: cannot be read: Permission denied"])

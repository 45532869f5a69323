"""The lock the last build wrote, kept as its lines: the same notes and the same bytes as a lock read in full."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import replace

import pytest

from generator.errors import ContentError, DeckgenError
from generator.pipeline import pipeline
from generator.pipeline.cachefile import read_cache
from generator.pipeline.config import BuildConfig
from generator.pipeline.lock import notelines
from generator.pipeline.lock.lines import LineNotes, guid_owners, lines_of, live_lines, split_lock, topic_lines
from generator.pipeline.lock.model import REMOVED_RETENTION_SECONDS, Lock, LockedNote
from generator.pipeline.lock.read import read_lock
from generator.pipeline.lock.times import released, unreleased
from generator.pipeline.lock.write import (
    LockText,
    joined_lock,
    lock_bytes,
    lock_text,
    released_line,
    removal_times,
    unreleased_in,
)
from generator.pipeline.pipeline import _same_lock, build

from .support import T1, T2, V1, write_source

NOW = 1_800_000_000


def _lock() -> Lock:
    """Notes whose lines hold every kind of escape, tombstones (one expired), released and unreleased notes."""
    notes = {
        'src/quote"d/title': LockedNote('g"1\\', "0123456789abcdef", 5, "t-1", "Deck::\u00e9\u4e2d", "cloze", 1, 'say "hi"'),
        "src/back\\slash/point/p1": LockedNote("g2", "fedcba9876543210", 6, "t-2", "Deck", "cloze", 1, "a\tb\u2028c"),
        "src/item/point/p2": LockedNote("g3", "removed", 7, "t-1", "Deck", "cloze", 1, '"removed": null, ', released=False),
        "src/gone/title": LockedNote("g4", "0000000000000000", 8, "t-2", "Deck", "cloze", 1, "x", removed=NOW - 10),
        "src/old/title": LockedNote(
            "g5", "1111111111111111", 9, "t-1", "Deck", "cloze", 1, "y", removed=NOW - REMOVED_RETENTION_SECONDS - 1
        ),
        "src/\u00fcber/title": LockedNote("g6", "2222222222222222", 10, "t-3", "D", "cloze", 1, "\x01", released=False),
    }
    return Lock(notes, {})


def test_a_lock_split_into_lines_reads_as_the_same_notes_and_joins_to_the_same_bytes():
    lock = _lock()
    data = lock_bytes(lock)
    split = split_lock("deckgen.lock", data)
    assert split is not None and isinstance(split.notes, LineNotes)
    assert dict(split.notes) == dict(lock.notes)
    assert split.notes.topics == {"t-1": ('src/item/point/p2', "src/old/title", 'src/quote"d/title'),
                                  "t-2": ("src/back\\slash/point/p1", "src/gone/title"), "t-3": ("src/\u00fcber/title",)}
    # spliced as they are (no note decoded) or encoded again: the same lock, byte for byte
    assert bytes(joined_lock(split.note_types, split.notes.lines)) == data
    assert bytes(joined_lock(split.note_types, reversed(list(split.notes.lines)))) == data  # sorted as written
    assert bytes(joined_lock(lock.note_types, lines_of(lock.notes))) == data
    assert guid_owners(split.notes) == guid_owners(dict(lock.notes))
    together = split_lock("deckgen.lock", data)  # decoded at once, as a rebuilt topic's notes are: the same notes
    assert together is not None and isinstance(together.notes, LineNotes)
    together.notes.decode(["src/item/point/p2", "src/none/title", "src/\u00fcber/title", "src/item/point/p2"])
    assert dict(together.notes._decoded) == {key: lock.notes[key] for key in ("src/item/point/p2", "src/\u00fcber/title")}
    together.notes.decode(lock.notes)
    assert dict(together.notes._decoded) == dict(together.notes) == dict(lock.notes)


@pytest.mark.parametrize("keys", [(), ("src/item/point/p2",), ("src/item/point/p2", "src/gone/title")])
def test_a_lock_of_no_one_or_two_notes_splits_and_joins(keys):
    lock = Lock({key: _lock().notes[key] for key in keys}, {})
    split = split_lock("deckgen.lock", lock_bytes(lock))
    assert split is not None and dict(split.notes) == dict(lock.notes)
    assert bytes(joined_lock(split.note_types, split.notes.lines)) == lock_bytes(lock)


def test_a_topics_live_lines_are_the_same_read_from_lines_or_from_notes():
    lock = _lock()
    split = split_lock("deckgen.lock", lock_bytes(lock))
    assert split is not None
    for topic, keys in split.notes.topics.items():
        from_lines = live_lines(split.notes, keys, NOW)
        assert from_lines == live_lines(dict(lock.notes), keys, NOW) == list(topic_lines(split.notes, topic, keys, NOW))
    live = Lock({key: note for key, note in lock.notes.items() if note.removed is None}, {})
    split = split_lock("deckgen.lock", lock_bytes(live))
    assert split is not None and isinstance(split.notes, LineNotes) and not split.notes.tombstones
    for topic, keys in split.notes.topics.items():  # no tombstone: the topic's lines as the lock has them
        assert list(topic_lines(split.notes, topic, keys, NOW)) == live_lines(dict(live.notes), keys, NOW)
    assert "src/old/title" not in dict(live_lines(split.notes, split.notes.topics["t-1"], NOW))  # expired


def test_a_released_lines_lock_is_the_released_lock():
    lock = _lock()
    lines = [(key, released_line(line)) for key, line in lines_of(lock.notes)]
    assert bytes(joined_lock(lock.note_types, lines)) == lock_bytes(released(lock)) != lock_bytes(lock)
    assert unreleased_in(joined_lock(lock.note_types, lines)) == 0


def test_a_split_lock_compares_as_the_notes_it_holds():
    lock = _lock()
    split = split_lock("deckgen.lock", lock_bytes(lock))
    assert split is not None and split.notes == dict(lock.notes) and split == lock


def test_unreleased_notes_and_removal_times_are_counted_in_the_written_bytes():
    lock = _lock()
    data = lock_text(lock)
    assert unreleased_in(data) == unreleased(lock) == 2
    assert sorted(removal_times(data)) == sorted(n.removed for n in lock.notes.values() if n.removed is not None)
    # Joined of runs of a lock read and a line made now: the runs are searched for tombstones where it holds one.
    made = {"src/new/title": LockedNote("g9", "3333333333333333", 11, "t-3", "D", "cloze", 1, "z", removed=NOW - 5)}
    live = Lock({key: note for key, note in lock.notes.items() if note.removed is None}, {})
    for read in (lock, live):
        split = split_lock("deckgen.lock", lock_bytes(read))
        assert split is not None and isinstance(split.notes, LineNotes)
        assert split.notes.tombstones is (read is lock)
        kept = [(key, split.notes.number(key)) for key in split.notes]
        text = joined_lock(split.note_types, [*kept, *lines_of(made)], split.notes.found)
        removed = [note.removed for note in (*read.notes.values(), *made.values()) if note.removed is not None]
        assert sorted(removal_times(text)) == sorted(removed) and len(removed) == (3 if read is lock else 1)
    # Runs of a lock known to hold all or none unreleased are not counted again: the same count.
    new = {"src/new/title": LockedNote("g9", "3333333333333333", 11, "t-3", "D", "cloze", 1, "z", released=False)}
    for read in (released(live), Lock({key: replace(note, released=False) for key, note in live.notes.items()}, {})):
        split = split_lock("deckgen.lock", lock_bytes(read))
        assert split is not None and isinstance(split.notes, LineNotes)
        found = replace(split.notes.found, unreleased=unreleased(read))
        assert found.unreleased in (0, len(found))
        kept = [(key, split.notes.number(key)) for key in split.notes]
        text = joined_lock(split.note_types, [*kept, *lines_of(new)], found)
        assert unreleased_in(text) == bytes(text).count(b'"released": false, "removed": null') == found.unreleased + 1


@pytest.mark.parametrize(("edit", "mod"), [
    (lambda data: data.replace(b'"mod": 6,', b'"mod": 60,'), 60),  # a valid edit: read, not the lines last written
    (lambda data: json.dumps(json.loads(data), indent=1).encode(), 6),
])
def test_a_lock_other_than_the_one_written_is_not_read_as_lines(tmp_path, edit, mod):
    data = lock_bytes(_lock())
    path = tmp_path / "deckgen.lock"
    path.write_bytes(edit(data))
    lock = read_lock(str(path), hashlib.sha256(data).hexdigest(), split=True)
    assert not isinstance(lock.notes, LineNotes)
    assert lock.notes["src/back\\slash/point/p1"].mod == mod


def test_a_lock_a_checkout_gave_crlf_line_endings_is_read_as_the_lines_written(tmp_path):
    data = lock_bytes(_lock())
    path = tmp_path / "deckgen.lock"
    path.write_bytes(data.replace(b"\n", b"\r\n"))
    lock = read_lock(str(path), hashlib.sha256(data).hexdigest(), split=True)
    assert isinstance(lock.notes, LineNotes) and lock == _lock()


@pytest.mark.parametrize("edit", [
    lambda data: data.replace(b"\n", b"\r\n"),
    lambda data: json.dumps(json.loads(data), indent=1).encode(),
    lambda data: data.replace(b'"version": 1', b'"version": 2'),
    lambda data: data.replace(b'{"cards": 1, ', b'{', 1),  # a line without a field
    lambda data: data[:-1],
    lambda data: data.replace(b'"},\n', b'"}\n', 1),  # no comma between two lines
    lambda data: data.replace(b'"},\n', b'"},\n\n', 1),  # a blank line between two
    lambda data: data.replace(b'"}\n}', b'"},\n}', 1),  # a comma after the last line
])
def test_a_lock_laid_out_otherwise_is_not_split(edit):
    assert split_lock("deckgen.lock", lock_bytes(_lock())) is not None
    assert split_lock("deckgen.lock", edit(lock_bytes(_lock()))) is None


def test_an_entry_edited_by_hand_in_a_trusted_lock_is_checked(tmp_path):
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    lock_path = source / "deckgen.lock"
    text = lock_path.read_text(encoding="utf-8")
    lock_path.write_text(text.replace('"cards": 1,', '"cards": "one",', 1), encoding="utf-8")
    with pytest.raises(ContentError, match="cards should be"):
        build(BuildConfig(str(source), str(out), timestamp=T2))


def test_a_rebuild_of_one_edited_topic_writes_what_a_build_from_nothing_writes(tmp_path):
    more = V1.replace("basics", "more").replace("Basics", "More").replace("id: ", "id: m-")
    source = write_source(tmp_path / "src", V1, extra={"more.yaml": more})
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    cache = read_cache(str(out))
    assert cache is not None and cache.code is not None  # the next build may read its lock as lines
    shutil.copytree(source, tmp_path / "fresh")
    shutil.copytree(out, tmp_path / "fresh-out")
    for folder in (source, tmp_path / "fresh"):
        (folder / "basics.yaml").write_text(V1.replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    edited = build(BuildConfig(str(source), str(out), timestamp=T2))
    (tmp_path / "fresh-out" / ".deckgen-cache.json").unlink()  # no cache: the lock is checked and read in full
    full = build(BuildConfig(str(tmp_path / "fresh"), str(tmp_path / "fresh-out"), timestamp=T2))
    assert (edited.total("updated"), edited.total("unchanged")) == (full.total("updated"), full.total("unchanged"))
    assert (source / "deckgen.lock").read_bytes() == (tmp_path / "fresh" / "deckgen.lock").read_bytes()
    for name in ("basics.apkg", "more.apkg"):
        assert (out / name).read_bytes() == (tmp_path / "fresh-out" / name).read_bytes()


@pytest.mark.parametrize(("old", "same"), [
    (b"a\nb\n" * 400_000, True),
    (b"a\r\nb\r\n" * 400_000, True),  # line endings a checkout changed
    (b"a\rb\r" * 400_000, False),  # lone CRs, no checkout's: written again, as LF, so that a build trusts it
    (b"a\nb\n" * 400_000 + b"c", False),
    (b"a\nb\n" * 399_999, False),
    (b"a\nb\n" * 300_000 + b"a\nc\n" + b"a\nb\n" * 99_999, False),  # past the first chunk
    (b"a\r\nb\r\n" * 399_999 + b"a\r\nc\r\n", False),
])
def test_a_lock_is_the_same_if_it_reads_as_the_same_text(tmp_path, old, same):
    path = tmp_path / "deckgen.lock"
    path.write_bytes(old)
    written = b"a\nb\n" * 400_000
    pieces = LockText(tuple(written[start : start + 1000] for start in range(0, len(written), 1000)))
    assert _same_lock(str(path), pieces, hashlib.sha256(written).hexdigest()) is same
    assert _same_lock(str(tmp_path / "none.lock"), LockText((b"",)), hashlib.sha256(b"").hexdigest()) is False


def test_a_topics_kept_lines_are_read_from_the_lock_file_and_copied_from_there_in_runs(tmp_path):
    lock = _lock()
    data = lock_bytes(lock)
    path = tmp_path / "deckgen.lock"
    path.write_bytes(data)
    split = split_lock(str(path), data, on_disk=True)
    assert split is not None and isinstance(split.notes, LineNotes)
    kept = [split.notes.topic_lines(topic, NOW) for topic in split.notes.topics]
    assert sorted(pair for lines in kept for pair in lines) == live_lines(dict(lock.notes), lock.notes, NOW)
    places = [pair for lines in kept for pair in lines.places()]
    text = joined_lock(split.note_types, places, split.notes.found)
    assert any(isinstance(part, tuple) and part[0] < part[1] for part in text.parts)  # neighbours: one run
    head, *notes, foot = text.parts
    assert all(isinstance(part, tuple) or part == b",\n" for part in notes) and foot == b"\n}\n}\n"  # no line held
    expired = lock_bytes(Lock({k: n for k, n in lock.notes.items() if k != "src/old/title"}, {}))
    assert bytes(text) == expired and len(text) == len(expired) and text.sha256() == hashlib.sha256(expired).hexdigest()
    path.write_bytes(data[: len(data) // 2])  # cut short under the build: said, never written half
    with pytest.raises(DeckgenError, match="changed while deckgen was reading it"):
        bytes(text)


@pytest.mark.parametrize("span", [1, 100, 300, 1024 * 1024])  # a line a part, a few, all at once
def test_lines_are_read_in_runs_of_at_most_a_span_and_read_as_the_lines_they_are(monkeypatch, span):
    monkeypatch.setattr(notelines, "SPAN_BYTES", span)
    lock = _lock()
    data = lock_bytes(lock)
    split = split_lock("deckgen.lock", data)
    assert split is not None and isinstance(split.notes, LineNotes)
    found = split.notes.found
    every = dict(lines_of(lock.notes))
    count = len(found)
    for numbers in ([], [2], list(range(count)), [0, 1, 3, 4], [1, 1, 2], list(range(1, count - 1))):
        expected = [(found.keys[n], every[found.keys[n]]) for n in numbers]
        assert list(found.lines(numbers)) == expected
        assert found.joined(numbers) == b",\n".join(line for _, line in expected)
        runs = list(found.runs(numbers))
        assert [n for first, last in runs for n in range(first, last + 1)] == numbers
        assert all(first == last or found.size(first, last) <= span for first, last in runs)
    assert b"".join(found.spans(0, count - 1)) == data[found.starts[0] : found.ends[-1]]


def _two_topics_built_then_one_edited(tmp_path):
    """A source of two topics built, then one of them edited: the next build reads the lock as lines."""
    more = V1.replace("basics", "more").replace("Basics", "More").replace("id: ", "id: m-")
    source = write_source(tmp_path / "src", V1, extra={"more.yaml": more})
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    (source / "basics.yaml").write_text(V1.replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    return source, out


def test_a_lock_written_in_place_while_a_build_reads_it_stops_the_build_before_anything_is_written(
    tmp_path, monkeypatch
):
    source, out = _two_topics_built_then_one_edited(tmp_path)
    lock_path = source / "deckgen.lock"
    real_write = pipeline._write

    def write_after_an_edit_in_place(made, job, file_format):  # as `dd conv=notrunc` or an editor saving in place
        with open(lock_path, "r+b") as handle:
            handle.seek(lock_path.read_bytes().rindex(b'"}'))
            handle.write(b"X")
        return real_write(made, job, file_format)

    monkeypatch.setattr(pipeline, "_write", write_after_an_edit_in_place)
    before = {path: path.read_bytes() for path in sorted(out.iterdir())}
    with pytest.raises(DeckgenError, match="deckgen.lock: changed while deckgen was reading it"):
        build(BuildConfig(str(source), str(out), timestamp=T2))
    assert {path: path.read_bytes() for path in sorted(out.iterdir())} == before
    assert lock_path.read_bytes().endswith(b'"basicsX}\n}\n}\n')  # the edit in place, as made: not written over


def test_a_pipe_put_where_the_lock_was_is_not_waited_on(tmp_path):
    pipe = tmp_path / "deckgen.lock"
    os.mkfifo(pipe)  # swapped in after the lock was read: opening it to read would wait for a writer
    with pytest.raises(OSError, match="not a regular file"):
        notelines.OnDisk(str(pipe), b"")


@pytest.mark.parametrize("line", [0, -1])  # the edited topic's first note, the other topic's last
def test_a_lock_written_in_place_after_it_was_read_is_said_not_a_traceback(tmp_path, monkeypatch, line):
    source, out = _two_topics_built_then_one_edited(tmp_path)
    lock_path = source / "deckgen.lock"
    real_read = pipeline.read_lock

    def read_then_edit_in_place(*args, **kwargs):
        lock = real_read(*args, **kwargs)
        data = lock_path.read_bytes()
        colons = [at + 1 for at in range(len(data)) if data.startswith(b'": {"cards": ', at)]
        with open(lock_path, "r+b") as handle:  # a note's line no longer JSON: it cannot be read as written
            handle.seek(colons[line])
            handle.write(b";")
        return lock

    monkeypatch.setattr(pipeline, "read_lock", read_then_edit_in_place)
    before = {path: path.read_bytes() for path in sorted(out.iterdir())}
    with pytest.raises(DeckgenError, match="deckgen.lock: changed while deckgen was reading it"):
        build(BuildConfig(str(source), str(out), timestamp=T2))
    assert {path: path.read_bytes() for path in sorted(out.iterdir())} == before


def test_a_rebuild_after_an_edit_reads_the_lock_file_once(tmp_path, monkeypatch):
    """Whether anything changed, and then what: the lock read (and hashed) for the first is the one built from."""
    from generator.pipeline.lock import located

    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    reads: list[str] = []
    reading = located.read_regular
    monkeypatch.setattr(located, "read_regular", lambda path, limit: reads.append(path) or reading(path, limit))
    (source / "basics.yaml").write_text(V1.replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    report = build(BuildConfig(str(source), str(out), timestamp=T2))
    assert report.total("updated") == 1
    assert reads == [str(source / "deckgen.lock")]


def test_a_lock_written_in_place_while_the_source_loads_is_the_one_built_from(tmp_path, monkeypatch):
    """The lock read to see whether anything changed is built from only if the file is still that one: a lock
    written in place since (``cp`` over it, as the user puts a fixed lock back) is read again, as it is."""
    from generator.source import loader

    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    lock = source / "deckgen.lock"
    mine = lock.read_bytes().replace(b'"mod": %d' % T1, b'"mod": %d' % (T1 - 12_345))
    assert mine != lock.read_bytes()
    loading = loader.load_source

    def load_after_a_write(*args, **kwargs):
        before = lock.stat().st_mtime_ns
        with open(lock, "r+b") as handle:  # in place, as cp writes
            handle.write(mine)
            handle.truncate()
        os.utime(lock, ns=(before + 10**9, before + 10**9))  # a second later: no clock tick of the system's own
        return loading(*args, **kwargs)

    monkeypatch.setattr(loader, "load_source", load_after_a_write)
    (source / "basics.yaml").write_text(V1.replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    build(BuildConfig(str(source), str(out), timestamp=T2))
    assert b'"mod": %d' % (T1 - 12_345) in lock.read_bytes()  # the unchanged notes keep the times it gave them

"""The files a build writes from pieces (the lock, the memo of validated topics) are the bytes they stand for,
and a lock whose line endings a checkout changed is left as it is while it reads as the same text.
"""

from __future__ import annotations

import io
import os
import pickle
import shutil

import pytest

from generator.anki.notetypes import note_type_schemas
from generator.errors import DeckgenError
from generator.pipeline.cache import code_digest
from generator.pipeline.config import BuildConfig
from generator.pipeline.lock import write as lock_write
from generator.pipeline.lock.model import Lock, LockedNote
from generator.pipeline.lock.write import dump_lock, lock_text, removal_times, unreleased_in
from generator.pipeline.memo import TOPICS_NAME, read_memo
from generator.pipeline.pipeline import build
from generator.pipeline.userkey import MAC_BYTES
from generator.source.loader import load_source

from .support import T1, T2, V1, write_source


def _notes(count: int) -> dict[str, LockedNote]:
    """*count* notes: live and released, live and unreleased, tombstones (removed), with non-ASCII labels."""
    return {
        f"src/item{n}/title": LockedNote(
            f"g{n}", f"{n:016x}", n, f"t-{n % 3}", "Deck::é", "cloze", 1, f"label {n} “中”",
            released=n % 2 == 0, removed=1_700_000_000 + n if n % 3 == 0 else None,
        )
        for n in range(count)
    }


@pytest.mark.parametrize("count", [0, 1, 2, 7])
def test_a_locks_pieces_are_its_text_and_are_counted_as_its_bytes(count):
    lock = Lock(_notes(count), note_type_schemas())
    text = lock_text(lock)
    data = dump_lock(lock).encode("utf-8")
    assert b"".join(text.pieces) == bytes(text) == data and len(text) == len(data)
    assert unreleased_in(text) == data.count(b'"released": false, "removed": null, ')
    assert sorted(removal_times(text)) == sorted(n.removed for n in lock.notes.values() if n.removed is not None)


def test_a_lock_checked_out_with_crlf_is_left_as_it_is_while_it_reads_as_the_same_text(tmp_path):
    more = V1.replace("basics", "more").replace("Basics", "More").replace("id: ", "id: m-")
    source = write_source(tmp_path / "src", V1, extra={"more.yaml": more})
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    lock = source / "deckgen.lock"
    written = lock.read_bytes()
    lock.write_bytes(written.replace(b"\n", b"\r\n"))  # as git's autocrlf checks it out
    (source / "more.yaml").write_text(more + "# an edit that changes no note\n", encoding="utf-8")
    build(BuildConfig(str(source), str(out), timestamp=T2))
    assert lock.read_bytes() == written.replace(b"\n", b"\r\n")
    # An edit that changes a note: the lock is written, as a build from scratch from the same lock writes it.
    shutil.copy(lock, tmp_path / "scratch.lock")
    (source / "basics.yaml").write_text(V1.replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    again = build(BuildConfig(str(source), str(out), timestamp=T2 + 1))
    scratch = build(BuildConfig(
        str(source), str(tmp_path / "fresh"), lock_path=str(tmp_path / "scratch.lock"), timestamp=T2 + 1
    ))
    assert b"\r" not in lock.read_bytes() and lock.read_bytes() == (tmp_path / "scratch.lock").read_bytes()
    assert again.total("updated") == scratch.total("updated") == 1
    assert (out / "basics.apkg").read_bytes() == (tmp_path / "fresh" / "basics.apkg").read_bytes()


def _large_topic(name: str, items: int) -> str:
    """A topic whose validated content pickles to more than the pickler's frame (64 KiB): written as it is."""
    lines = [f"topic: {name}", f"name: {name.capitalize()}", "items:"]
    for n in range(items):
        lines += [
            f"  - id: {name}-{n}", "    perspective: tea", f"    title: Heading {name} {n}",
            f"    explanation: Sentence {n} says {{{{term {name} {n}}}}} and more words after it, é中.",
        ]
    return "\n".join(lines) + "\n"


def test_a_memo_of_large_topics_reads_back_as_it_was_kept_and_as_the_files_read(tmp_path):
    source = write_source(tmp_path / "src", V1, extra={"big.yaml": _large_topic("big", 800)})
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    code, kept = pickle.loads((out / TOPICS_NAME).read_bytes()[MAC_BYTES:])  # after the MAC
    assert code == code_digest() and {name for name, _ in kept} == {"basics.yaml", "big.yaml"}
    big = next(data for (name, _), data in kept.items() if name == "big.yaml")
    assert len(big) > 64 * 1024  # the pickler's direct write, not its frames
    memo = read_memo(str(out))
    assert memo.raw == kept
    loaded = load_source(str(source), memo)
    assert loaded == load_source(str(source))
    pieces = memo.data()  # nothing new seen: the very bytes kept, the large one handed over as it is
    assert pickle.loads(b"".join(pieces[1:])) == (code_digest(), kept)  # the MAC first
    assert any(piece is memo.raw[key] for key in memo.raw for piece in pieces if len(memo.raw[key]) > 64 * 1024)


def test_a_lock_whose_pieces_cannot_all_be_written_leaves_the_lock_and_folders_as_they_were(tmp_path, monkeypatch):
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    (source / "basics.yaml").write_text(V1.replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    before = {path: path.read_bytes() for folder in (source, out) for path in sorted(folder.iterdir())}
    real_fdopen = os.fdopen

    class _Full(io.BufferedWriter):
        def writelines(self, pieces):  # the disk fills after the lock's head and first line
            for number, piece in enumerate(pieces):
                if number == 2:
                    raise OSError(28, "No space left on device")
                self.write(piece)

    def fdopen(handle, mode="r", *args, **kwargs):
        stream = real_fdopen(handle, mode, *args, **kwargs)
        return _Full(stream.detach()) if mode == "wb" else stream

    monkeypatch.setattr(os, "fdopen", fdopen)
    monkeypatch.setattr(lock_write, "SPAN_BYTES", 64)  # a lock of a few notes, written in blocks of a line or two
    with pytest.raises(DeckgenError, match="cannot write .*deckgen.lock: No space left on device"):
        build(BuildConfig(str(source), str(out), timestamp=T2))
    monkeypatch.setattr(os, "fdopen", real_fdopen)
    assert {path: path.read_bytes() for folder in (source, out) for path in sorted(folder.iterdir())} == before

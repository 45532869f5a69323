"""The one guarded reader every file deckgen did not make goes through (source, lock, cache, media, exports)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.source.guarded import NotUtf8, Refused, decode_utf8, read_regular, regular_file


def test_a_regular_file_within_its_limit_is_read(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"12345")
    assert read_regular(str(tmp_path / "a.yaml"), 5) == b"12345"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_is_refused_unopened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")  # opening it to read would block: returning at all shows it was not opened
    assert read_regular(str(tmp_path / "pipe"), 5) == Refused("special")


def test_a_directory_and_a_missing_file_are_refused(tmp_path: Path) -> None:
    assert read_regular(str(tmp_path), 5) == Refused("directory")
    assert read_regular(str(tmp_path / "none"), 5) == Refused("missing", "No such file or directory")
    assert isinstance(regular_file(str(tmp_path / "none")), Refused)


def test_a_file_over_its_limit_is_refused_with_its_size(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"123456")
    assert read_regular(str(tmp_path / "big"), 5) == Refused("too_big", size=6)


@pytest.mark.parametrize(
    ("data", "found"),
    [(b"title: tea", "title: tea"), (b"\xef\xbb\xbftitle: tea", NotUtf8(1, None)), (b"a\nb\n\xff", NotUtf8(3, 0xFF))],
    ids=["utf-8", "byte-order mark", "not utf-8"],
)
def test_decoding_says_where_bytes_are_not_utf8(data: bytes, found: str | NotUtf8) -> None:
    assert decode_utf8(data) == found


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_put_in_place_after_stat_is_refused_not_waited_on(tmp_path, monkeypatch):
    """Between ``stat`` and ``open`` a regular file may be swapped for a pipe: the open does not wait for a writer,
    and what was opened is checked again."""
    from generator.source import guarded

    regular, pipe = tmp_path / "regular", tmp_path / "pipe"
    regular.write_text("text", encoding="utf-8")
    os.mkfifo(pipe)
    monkeypatch.setattr(guarded, "regular_file", lambda path: os.stat(regular))  # stat saw the regular file
    assert guarded.read_regular(str(pipe), 100) == guarded.Refused("special")

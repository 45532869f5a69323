"""The user's key that signs the memo (generator/pipeline/userkey.py): where it is kept, and made whole or not at all."""

from __future__ import annotations

import os

import pytest

import generator.pipeline.userkey as userkey


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    monkeypatch.setattr(userkey, "_kept", [])
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_a_relative_cache_home_is_ignored_as_the_xdg_spec_says(fresh, monkeypatch):
    """A relative XDG_CACHE_HOME names a folder of whatever checkout a command runs in: a repository could hold a
    key there, and a memo signed with it."""
    monkeypatch.setenv("XDG_CACHE_HOME", ".cache")
    assert userkey.key_path() == str(fresh / "home" / ".cache" / "deckgen" / "memo.key")
    monkeypatch.setenv("XDG_CACHE_HOME", str(fresh / "xdg"))
    assert userkey.key_path() == str(fresh / "xdg" / "deckgen" / "memo.key")


def test_a_key_that_cannot_be_written_whole_is_not_left_half_made(fresh, monkeypatch):
    real_fsync = os.fsync

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    assert userkey.user_key() is None  # no memo trusted this time, and no traceback
    folder = fresh / "home" / ".cache" / "deckgen"
    assert sorted(os.listdir(folder)) == []  # neither the key nor its staged copy
    monkeypatch.setattr(os, "fsync", real_fsync)
    key = userkey.user_key()  # the next build makes it
    assert key is not None and len(key) == userkey.KEY_BYTES
    assert (folder / "memo.key").stat().st_mode & 0o777 == 0o600


def test_a_key_others_may_read_is_not_trusted(fresh):
    assert userkey.user_key() is not None
    path = userkey.key_path()
    os.chmod(path, 0o644)
    userkey._kept.clear()
    assert userkey.user_key() is None

"""The build cache: a rebuild with nothing changed does no work and writes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.errors import ContentError
from generator.pipeline.config import BuildConfig
from generator.pipeline.lock.model import REMOVED_RETENTION_SECONDS
from generator.pipeline.memo import TOPICS_NAME, read_memo
from generator.pipeline.pipeline import build
from generator.pipeline.userkey import MAC_BYTES
from generator.source.loader import load_source

from .support import T1, T2, V1, write_source


def stamps(folder):
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.iterdir()}


def test_nothing_changed_means_nothing_written(tmp_path):
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    first = build(BuildConfig(str(source), str(out), timestamp=T1))
    before = stamps(out)
    lock_before = (source / "deckgen.lock").stat().st_mtime_ns
    again = build(BuildConfig(str(source), str(out), timestamp=T2))
    assert stamps(out) == before
    assert (source / "deckgen.lock").stat().st_mtime_ns == lock_before
    assert [(f.path, f.notes, f.cards, f.decks) for f in again.files] == [
        (f.path, f.notes, f.cards, f.decks) for f in first.files
    ]
    assert again.total("unchanged") == again.notes == first.notes
    assert again.total("added") == again.total("updated") == again.total("removed") == 0


def test_an_edit_a_damaged_package_or_a_new_file_rebuilds(tmp_path):
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    package = out / "basics.apkg"
    good = package.read_bytes()
    package.write_bytes(good[:-10])  # damaged behind deckgen's back
    report = build(BuildConfig(str(source), str(out), timestamp=T2))
    assert package.read_bytes() == good and report.total("unchanged") == report.notes
    (source / "basics.yaml").write_text(V1.replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    edited = build(BuildConfig(str(source), str(out), timestamp=T2))
    # only the edited point: other backs show the list plain, so moving a mark changes no other note
    assert (edited.total("updated"), edited.total("added"), edited.total("removed")) == (1, 0, 0)
    (source / "more.yaml").write_text(V1.replace("basics", "more").replace("Basics", "More").replace("id: ", "id: m-"), encoding="utf-8")
    assert sorted(f.path for f in build(BuildConfig(str(source), str(out), timestamp=T2)).files) == [
        str(out / "basics.apkg"), str(out / "more.apkg"),
    ]


def test_an_expiring_tombstone_rebuilds(tmp_path):
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1, release=True))
    (source / "basics.yaml").write_text(V1.replace("  - id: ritual\n", "  - id: rituals\n"), encoding="utf-8")
    removed = build(BuildConfig(str(source), str(out), timestamp=T2))
    # ritual's cloze and "which drink?" card are removed; under the new id they are added again
    assert (removed.total("removed"), removed.total("added")) == (2, 2)
    same = build(BuildConfig(str(source), str(out), timestamp=T2 + 10))
    assert same.notes == removed.notes  # from the cache
    assert '"removed": 1' in (source / "deckgen.lock").read_text(encoding="utf-8")
    later = build(BuildConfig(str(source), str(out), timestamp=T2 + REMOVED_RETENTION_SECONDS + 1))
    assert later.notes == removed.notes  # packages never carry tombstones
    assert '"removed": 1' not in (source / "deckgen.lock").read_text(encoding="utf-8")  # the lock forgets them


def test_an_edit_in_one_topic_leaves_the_other_packages_byte_identical(tmp_path):
    more = V1.replace("basics", "more").replace("Basics", "More").replace("id: ", "id: m-")
    source = write_source(tmp_path / "src", V1, extra={"more.yaml": more})
    build(BuildConfig(str(source), str(tmp_path / "a"), timestamp=T1))
    (source / "basics.yaml").write_text(V1.replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    build(BuildConfig(str(source), str(tmp_path / "b"), timestamp=T2))
    assert (tmp_path / "a" / "more.apkg").read_bytes() == (tmp_path / "b" / "more.apkg").read_bytes()
    assert (tmp_path / "a" / "basics.apkg").read_bytes() != (tmp_path / "b" / "basics.apkg").read_bytes()


def test_an_edit_saved_while_a_build_runs_is_never_lost(tmp_path, monkeypatch):
    """The cache records the bytes the build read: an editor's save during the build is a change."""
    import generator.source.yamlread as yamlread

    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    topic = source / "basics.yaml"
    edited = V1.replace("Pour {{hot water}}", "Pour {{boiling water}}")
    real_read = yamlread._read_bytes

    def read_then_save(path, shown, problems):
        data = real_read(path, shown, problems)
        if path == str(topic):  # the author saves right after deckgen has read the file
            topic.write_text(edited, encoding="utf-8")
        return data

    monkeypatch.setattr(yamlread, "_read_bytes", read_then_save)
    raced = build(BuildConfig(str(source), str(out), timestamp=T1))
    monkeypatch.setattr(yamlread, "_read_bytes", real_read)
    assert raced.total("added") == raced.notes  # built from the bytes read before the save
    after = build(BuildConfig(str(source), str(out), timestamp=T2))
    # not answered from the cache: the save is built (the point, its neighbour, the "which drink?" card)
    assert (after.total("updated"), after.total("added"), after.total("removed")) == (3, 0, 0)


def test_a_copied_out_folder_is_checked_itself_not_the_folder_it_was_copied_from(tmp_path):
    """The cache names packages relative to the out folder (a review's finding: it read the first folder's)."""
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / "basics.apkg").write_bytes(b"garbage")
    report = build(BuildConfig(str(source), str(copy), timestamp=T1))
    assert [f.path for f in report.files] == [str(copy / "basics.apkg")]
    assert (copy / "basics.apkg").read_bytes() == (out / "basics.apkg").read_bytes()


def test_a_no_change_build_still_names_packages_it_did_not_write(tmp_path):
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    out.mkdir()
    (out / "old-topic.apkg").write_bytes(b"a package of a topic renamed long ago")
    first = build(BuildConfig(str(source), str(out), timestamp=T1))
    again = build(BuildConfig(str(source), str(out), timestamp=T2))
    assert first.stale == again.stale == (str(out / "old-topic.apkg"),)


def _parsed_files(monkeypatch):
    """The names of the files the loader parses from now on (composes as YAML)."""
    import generator.source.loader as loader

    parsed: list[str] = []
    real = loader.read_yaml

    def counting(path, *args, **kwargs):
        parsed.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(loader, "read_yaml", counting)
    return parsed


def test_an_edit_parses_only_the_edited_file_and_builds_what_parsing_all_builds(tmp_path, monkeypatch):
    more = V1.replace("basics", "more").replace("Basics", "More").replace("id: ", "id: m-")
    source = write_source(tmp_path / "src", V1, extra={"more.yaml": more})
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    shutil.copytree(out, tmp_path / "unkept")
    (tmp_path / "unkept" / TOPICS_NAME).unlink()
    shutil.copy(source / "deckgen.lock", tmp_path / "unkept.lock")
    (source / "basics.yaml").write_text(V1.replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    parsed = _parsed_files(monkeypatch)
    edited = build(BuildConfig(str(source), str(out), timestamp=T2))
    assert parsed == ["deckgen.yaml", "basics.yaml"]
    parsed.clear()
    unkept = build(BuildConfig(str(source), str(tmp_path / "unkept"), lock_path=str(tmp_path / "unkept.lock"), timestamp=T2))
    assert parsed == ["deckgen.yaml", "basics.yaml", "more.yaml"]
    assert (source / "deckgen.lock").read_bytes() == (tmp_path / "unkept.lock").read_bytes()
    for name in ("basics.apkg", "more.apkg"):
        assert (out / name).read_bytes() == (tmp_path / "unkept" / name).read_bytes()
    assert edited.warnings == unkept.warnings and edited.total("updated") == unkept.total("updated") == 1


def test_kept_topics_are_read_only_if_no_one_else_may_have_written_them_and_are_whole(tmp_path, monkeypatch):
    more = V1.replace("basics", "more").replace("Basics", "More").replace("id: ", "id: m-")
    source = write_source(tmp_path / "src", V1, extra={"more.yaml": more})
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    parsed = _parsed_files(monkeypatch)
    for step, spoil in enumerate([lambda memo: memo.chmod(0o666), lambda memo: memo.write_bytes(b"\x80\x05damaged")]):
        spoil(out / TOPICS_NAME)
        (source / "basics.yaml").write_text(V1 + f"\n# edit {step}\n", encoding="utf-8")
        parsed.clear()
        assert build(BuildConfig(str(source), str(out), timestamp=T2)).notes
        assert parsed == ["deckgen.yaml", "basics.yaml", "more.yaml"]  # every file parsed, as with no memo


class _Planted:
    """What a memo crafted elsewhere holds: unpickled, it writes a file (it could run anything)."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_memo_not_signed_with_this_users_key_is_never_unpickled(tmp_path, monkeypatch):
    """A memo that came with an output folder (a clone of a repository that commits it) is the user's own file,
    written by no one else: only the MAC of a key in the user's cache folder tells it from one a build left."""
    import pickle

    import generator.pipeline.userkey as userkey
    from generator.pipeline.cache import code_digest

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(userkey, "_kept", [])
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    assert read_memo(str(out)).stored  # this user's own memo is trusted
    marker = tmp_path / "ran"
    crafted = pickle.dumps((code_digest(), _Planted(marker)))
    for planted in (crafted, bytes(MAC_BYTES) + crafted, (out / TOPICS_NAME).read_bytes()[:MAC_BYTES] + crafted):
        (out / TOPICS_NAME).write_bytes(planted)
        (out / TOPICS_NAME).chmod(0o644)  # as a clone leaves it
        (source / "basics.yaml").write_text(V1 + f"\n# edit {len(planted)}\n", encoding="utf-8")
        assert build(BuildConfig(str(source), str(out), timestamp=T2)).notes
        assert not marker.exists()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "another-user"))  # the same memo, another key
    monkeypatch.setattr(userkey, "_kept", [])
    assert not read_memo(str(out)).stored


def test_a_copied_source_folder_is_not_parsed_again_and_is_located_where_it_is(tmp_path, monkeypatch):
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    copy = tmp_path / "copy"
    shutil.copytree(source, copy)
    parsed = _parsed_files(monkeypatch)
    memo = read_memo(str(out))
    loaded = load_source(str(copy), memo)
    assert parsed == ["deckgen.yaml"]
    (topic,) = loaded.topics
    assert topic.file == str(copy / "basics.yaml")
    assert {item.file for item in topic.items} == {str(copy / "basics.yaml")}
    assert loaded == load_source(str(copy))


def test_the_lock_the_last_build_wrote_is_trusted_and_an_edited_one_checked(tmp_path, monkeypatch):
    import generator.pipeline.lock.checks as lock

    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    checked: list[str] = []
    real = lock.Checker.lock
    monkeypatch.setattr(lock.Checker, "lock", lambda self, data: checked.append("checked") or real(self, data))
    (source / "basics.yaml").write_text(V1 + "\n# an edit\n", encoding="utf-8")
    build(BuildConfig(str(source), str(out), timestamp=T2))
    assert checked == []
    path = source / "deckgen.lock"
    path.write_text(path.read_text(encoding="utf-8").replace('"mod": ', '"mod": -', 1), encoding="utf-8")
    (source / "basics.yaml").write_text(V1 + "\n# another edit\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"deckgen.lock:\d+: note .*: the lock cannot be read: mod should be"):
        build(BuildConfig(str(source), str(out), timestamp=T2))
    assert checked == ["checked"]


def test_a_title_retitled_in_another_topic_renews_a_reused_topics_warnings(tmp_path):
    """Cross-card smells read every item title: a topic whose own file did not change is checked again."""
    more = "topic: more\nname: More\nitems:\n  - id: other\n    perspective: tea\n    title: Quiet Hours\n    explanation: Tea has {{L-theanine}}.\n"
    source = write_source(tmp_path / "src", V1, extra={"more.yaml": more})
    out = tmp_path / "out"
    first = build(BuildConfig(str(source), str(out), timestamp=T1))
    assert not any("camellia sinensis" in w.message.lower() and "another card" in w.message for w in first.warnings)
    (source / "more.yaml").write_text(more.replace("Quiet Hours", "Camellia Sinensis Leaves"), encoding="utf-8")
    second = build(BuildConfig(str(source), str(out), timestamp=T2))
    assert any("'Camellia sinensis'" in w.message and "other/title" in w.message for w in second.warnings)


def test_a_lock_checked_out_with_crlf_line_endings_is_trusted_as_the_lock_the_last_build_wrote(tmp_path, monkeypatch):
    """git's autocrlf turns the lock's LF into CRLF on checkout: the same lines, so the same lock as written."""
    import generator.pipeline.lock.checks as lock
    import generator.source.loader as loader

    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    path = source / "deckgen.lock"
    crlf = path.read_bytes().replace(b"\n", b"\r\n")
    path.write_bytes(crlf)
    loaded: list[str] = []
    real_load = loader.load_source  # imported by the build where it loads: a rebuild with nothing to do never does
    monkeypatch.setattr(loader, "load_source", lambda *a, **k: loaded.append("loaded") or real_load(*a, **k))
    checked: list[str] = []
    real_check = lock.Checker.lock
    monkeypatch.setattr(lock.Checker, "lock", lambda self, data: checked.append("checked") or real_check(self, data))
    build(BuildConfig(str(source), str(out), timestamp=T2))
    assert loaded == [] and path.read_bytes() == crlf  # the last build's report, the lock as it was
    (source / "basics.yaml").write_text(V1 + "\n# an edit\n", encoding="utf-8")
    build(BuildConfig(str(source), str(out), timestamp=T2))
    assert loaded == ["loaded"] and checked == []  # built again, the lock read as trusted


def test_a_lock_of_lone_cr_line_endings_is_rewritten_and_then_trusted(tmp_path, monkeypatch):
    """Not a checkout's CRLF: the build writes the lock again, so the next finds nothing to do (a review's find)."""
    import generator.source.loader as loader

    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    path = source / "deckgen.lock"
    written = path.read_bytes()
    path.write_bytes(written.replace(b"\n", b"\r"))
    build(BuildConfig(str(source), str(out), timestamp=T2))
    assert path.read_bytes() == written
    loaded: list[str] = []
    real_load = loader.load_source
    monkeypatch.setattr(loader, "load_source", lambda *a, **k: loaded.append("loaded") or real_load(*a, **k))
    build(BuildConfig(str(source), str(out), timestamp=T2))
    assert loaded == []  # nothing to do


def test_topics_parsed_ahead_are_kept_and_not_parsed_again(tmp_path, monkeypatch):
    import pickle

    import generator.pipeline.ahead as ahead
    from generator.pipeline.cache import code_digest

    more = V1.replace("basics", "more").replace("Basics", "More").replace("id: ", "id: m-")
    source = write_source(tmp_path / "src", V1, extra={"more.yaml": more})
    out = tmp_path / "out"
    monkeypatch.setattr(ahead, "PARSE_AHEAD_MIN_BYTES", 0)  # a small source: parse ahead anyway
    (out).mkdir()
    (out / TOPICS_NAME).write_bytes(pickle.dumps(("another deckgen's code", {})))
    build(BuildConfig(str(source), str(out), timestamp=T1, jobs=2))
    code, kept = pickle.loads((out / TOPICS_NAME).read_bytes()[MAC_BYTES:])  # after the MAC
    assert code == code_digest() and {name for name, _ in kept} == {"basics.yaml", "more.yaml"}
    (source / "basics.yaml").write_text(V1.replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    parsed = _parsed_files(monkeypatch)
    build(BuildConfig(str(source), str(out), timestamp=T2, jobs=2))
    assert parsed == ["deckgen.yaml", "basics.yaml"]  # the edited file alone (one small file: no child)
    _one_file_parsed_ahead(tmp_path, monkeypatch, source, out, parsed)


def _one_file_parsed_ahead(tmp_path, monkeypatch, source, out, parsed):
    """One edited file is parsed in a child while the load's process reads the memo's topics ahead of the load:
    the memo keeps it as the load would, a file saved in between is parsed again, a failure ends the child."""
    import os

    import generator.pipeline.ahead as ahead
    from generator.pipeline.memo import StoredMemo
    from generator.source.loader import memo_key, read_one_topic

    monkeypatch.setattr(ahead, "PARSE_ONE_AHEAD_MIN_BYTES", 0)
    basics = source / "basics.yaml"
    basics.write_text(V1.replace("Pour {{hot water}}", "Pour {{hot}} {{water}}"), encoding="utf-8")
    parsed.clear()
    build(BuildConfig(str(source), str(out), timestamp=T2, jobs=2))
    assert parsed == ["deckgen.yaml"]  # basics.yaml in the child, more.yaml read out of the memo
    read: dict[str, bytes] = {}
    topic = read_one_topic(str(source), str(basics), read)
    assert topic is not None
    key = memo_key(read[str(source / "deckgen.yaml")], read[str(basics)])
    expected = StoredMemo()
    expected.add(str(basics), key, topic)
    assert read_memo(str(out)).raw[("basics.yaml", key)] == expected.raw[("basics.yaml", key)]
    real = StoredMemo.recall_ahead
    more = source / "more.yaml"

    def saved_meanwhile(memo, path, key):  # more.yaml saved after it was read ahead, before the load reads it
        real(memo, path, key)
        more.write_text(more.read_text(encoding="utf-8").replace("More", "Further"), encoding="utf-8")

    monkeypatch.setattr(StoredMemo, "recall_ahead", saved_meanwhile)
    basics.write_text(V1, encoding="utf-8")
    parsed.clear()
    build(BuildConfig(str(source), str(out), timestamp=T2, jobs=2))
    assert parsed == ["deckgen.yaml", "more.yaml"] and "Further" in load_source(str(source)).topics[1].name
    monkeypatch.setattr(StoredMemo, "recall_ahead", lambda *_: (_ for _ in ()).throw(KeyboardInterrupt))
    basics.write_text(V1.replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        build(BuildConfig(str(source), str(out), timestamp=T2, jobs=2))
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left, running or unreaped


def test_the_cache_reads_back_as_the_record_it_was_written_from(tmp_path):
    import json

    from generator.pipeline.cachefile import BuildCache, read_cache

    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    cache = read_cache(str(out))
    assert cache is not None and cache.files and cache.topics and cache.lock_sha256
    assert BuildCache.from_json(json.loads(cache.to_bytes())) == cache
    assert cache.to_bytes() == (out / ".deckgen-cache.json").read_bytes()
    (out / ".deckgen-cache.json").write_text('{"fingerprint": "x"}', encoding="utf-8")
    assert read_cache(str(out)) is None  # another shape: no cache, the next build builds
    (out / ".deckgen-cache.json").write_text("[" * 200_000, encoding="utf-8")
    assert read_cache(str(out)) is None  # nested past what the parser can (a review's finding): none either


def test_a_cache_written_before_a_field_was_added_still_reads(tmp_path):
    """``push`` reads the last build's cache for its removal notices; an older deckgen's must still read."""
    import json

    from generator.pipeline.cachefile import BuildCache, read_cache

    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1, write_lock=False))
    data = json.loads((out / ".deckgen-cache.json").read_bytes())
    assert data["lock_kept"] and all(record["timed"] is not None for record in data["topics"].values())
    del data["lock_lines"]  # a watch's cache from before it was written: its lock perhaps only checked
    assert not BuildCache.from_json(data).lock_lines
    del data["lock_kept"]
    for record in data["topics"].values():
        del record["timed"]  # as a cache written before watch's packages were kept: its lock, it wrote
    older = BuildCache.from_json(data)
    assert not older.lock_kept and older.lock_lines and all(record.timed is None for record in older.topics.values())
    cache = read_cache(str(out))
    assert cache is not None and older == cache._replace(lock_kept=False, lock_lines=True, topics=older.topics)


@pytest.mark.parametrize("name", [".deckgen-cache.json", TOPICS_NAME])
def test_a_folder_where_a_bookkeeping_file_goes_is_left_and_the_build_goes_on(tmp_path, name):
    """The cache and the memo only save the next build work: a folder in their place costs that, not the build."""
    source, out = tmp_path / "src", tmp_path / "out"
    write_source(source, V1)
    build(BuildConfig(str(source), str(out), timestamp=T1))
    (out / name).unlink()
    (out / name).mkdir()
    (source / "basics.yaml").write_text(V1.replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    report = build(BuildConfig(str(source), str(out), timestamp=T2))
    assert report.total("updated") == 1 and (out / name).is_dir()

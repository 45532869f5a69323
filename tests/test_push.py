"""``deckgen push`` against a stand-in for AnkiConnect that imports into a real Anki collection.

The stand-in speaks AnkiConnect's protocol (``{"action", "version", "params",
"key"}`` in, ``{"result", "error"}`` out) and performs ``importPackage`` the
way AnkiConnect does: Anki's package importer, with note types merged and
scheduling kept (AnkiConnect's ``AnkiPackageImporter`` is exactly that in
current Anki).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from anki.collection import Collection
from click.testing import CliRunner

from generator.build.pipeline import build
from generator.cli import main
from generator.connect.push import NOT_RUNNING

from .ankiconnect import FakeAnkiConnect, serve
from .ankitools import open_collection, study_everything
from .support import T1, T2, V1, killed_build, write_source


@pytest.fixture
def anki(tmp_path: Path) -> Iterator[tuple[Collection, FakeAnkiConnect]]:
    col = open_collection(tmp_path / "anki")
    yield from ((col, server) for server in serve(col))
    col.close()


def push(out: Path, url: str, *extra: str):
    return CliRunner().invoke(main, ["push", "--out", str(out), "--url", url, *extra])


def test_a_pushed_edit_updates_the_studied_note_in_place(tmp_path, anki):
    col, server = anki
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "decks"
    build(str(source), str(out), timestamp=T1)
    first = push(out, server.url)
    assert first.exit_code == 0, first.output
    assert first.stdout == f"imported {out}/basics.apkg\nPushed 1 package to Anki at {server.url}.\n"
    # Then only searches for notes marked removed: nothing else is imported, nothing suspended.
    assert [r["action"] for r in server.requests if r["action"] not in ("findNotes", "findCards")] == ["version", "importPackage"]
    assert server.requests[1]["params"] == {"path": str((out / "basics.apkg").resolve())}
    assert all("key" not in r and r["version"] == 6 for r in server.requests)
    studied = study_everything(col)
    notes = {col.get_note(nid).guid: nid for nid in col.find_notes("")}
    history = dict(col.db.all("select cid, count() from revlog group by cid"))
    (source / "basics.yaml").write_text(V1.replace("Tea comes from {{China}}.", "Tea comes from {{China}}, first."))
    build(str(source), str(out), timestamp=T2)
    second = push(out, server.url)
    assert second.exit_code == 0, second.output
    assert {col.get_note(nid).guid: nid for nid in col.find_notes("")} == notes  # no note added or duplicated
    edited = [nid for nid in notes.values() if "China}}, first." in " ".join(col.get_note(nid).fields)]
    assert edited  # the edit arrived, in the notes the student already had
    assert dict(col.db.all("select cid, count() from revlog group by cid")) == history
    assert sum(history.values()) == studied


def test_anki_not_running_is_one_line_and_exit_1(tmp_path):
    out = tmp_path / "decks"
    build(str(write_source(tmp_path / "src", V1)), str(out), timestamp=T1)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = push(out, url)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stderr == f"Error: {NOT_RUNNING}: nothing answers at {url} (connection refused)\n"
    assert result.stdout == ""


def test_a_wrong_key_shows_ankiconnects_error(tmp_path):
    out = tmp_path / "decks"
    build(str(write_source(tmp_path / "src", V1)), str(out), timestamp=T1)
    col = open_collection(tmp_path / "anki")
    try:
        for server in serve(col, key="secret"):
            wrong = push(out, server.url, "--key", "guess")
            assert wrong.exit_code == 1
            assert wrong.stderr == (
                f"Error: AnkiConnect at {server.url} refused 'version': valid api key must be provided\n"
            )
            assert server.requests[-1]["key"] == "guess" and col.note_count() == 0
            right = push(out, server.url, "--key", "secret")
            assert right.exit_code == 0 and col.note_count() > 0
    finally:
        col.close()


def test_an_old_ankiconnect_or_no_package_is_refused_before_importing(tmp_path):
    col = open_collection(tmp_path / "anki")
    try:
        for server in serve(col, version=5):
            empty = push(tmp_path / "nothing", server.url)
            assert empty.exit_code == 1 and "no .apkg package to push; build them first" in empty.stderr
            out = tmp_path / "decks"
            build(str(write_source(tmp_path / "src", V1)), str(out), timestamp=T1)
            old = push(out, server.url)
            assert old.exit_code == 1 and "speaks API version 5; deckgen push needs 6 or newer" in old.stderr
            assert [r["action"] for r in server.requests] == ["version"] and col.note_count() == 0
    finally:
        col.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "--url '' must be an http:// address, such as http://127.0.0.1:8765"),
        ("127.0.0.1:8765", "--url '127.0.0.1:8765' must be an http:// address, such as http://127.0.0.1:8765"),
        ("file:///etc/passwd", "--url 'file:///etc/passwd' must be an http:// address, such as http://127.0.0.1:8765"),
        ("http://[::1", "--url 'http://[::1' is not a URL: Invalid IPv6 URL"),
    ],
)
def test_a_url_that_cannot_be_ankiconnect_is_one_line(tmp_path, url, message):
    result = push(tmp_path, url)
    assert (result.exit_code, result.stderr, result.stdout) == (1, f"Error: {message}\n", "")


def test_a_proxy_in_the_environment_is_not_used(tmp_path, monkeypatch):
    """AnkiConnect is on this computer: a proxy would see the key and the paths (a review's finding)."""
    out = tmp_path / "decks"
    built = build(str(write_source(tmp_path / "src", V1)), str(out), timestamp=T1)
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    col = open_collection(tmp_path / "anki")
    try:
        for server in serve(col):
            result = push(out, server.url)
            assert result.exit_code == 0, result.output
            assert col.note_count() == built.notes
    finally:
        col.close()


def test_a_package_the_last_build_did_not_write_is_not_pushed(tmp_path):
    """A renamed topic's old package stays in the folder; build calls it not built from the source: so does push."""
    out = tmp_path / "decks"
    out.mkdir()
    (out / "old-topic.apkg").write_bytes(b"an old package")
    build(str(write_source(tmp_path / "src", V1)), str(out), timestamp=T1)
    col = open_collection(tmp_path / "anki")
    try:
        for server in serve(col):
            result = push(out, server.url)
            assert result.exit_code == 0, result.output
            assert result.stderr == f"note: {out / 'old-topic.apkg'} was not written by the last build from the source; not pushed\n"
            assert [r["params"]["path"] for r in server.requests if r["action"] == "importPackage"] == [str(out / "basics.apkg")]
    finally:
        col.close()


@pytest.mark.parametrize(
    ("step", "suffix", "sent"),
    [
        ("replace", ".apkg", "new"),  # killed after its commit point: one package renamed, one not
        ("fsync", ".deckgen-more.apkg.tmp", "old"),  # killed while staging: nothing was replaced
    ],
)
def test_push_after_a_killed_build_sends_one_whole_build(tmp_path, anki, step, suffix, sent):
    """push finishes or undoes the interrupted commit first: every package of one build, never a mix."""
    col, server = anki
    source = write_source(tmp_path / "src", V1)
    more = V1.replace("basics", "more").replace("Basics", "More").replace("id: ", "id: more-")
    (source / "more.yaml").write_text(more, encoding="utf-8")
    out = tmp_path / "decks"
    build(str(source), str(out), timestamp=T1)
    for name in ("basics.yaml", "more.yaml"):
        path = source / name
        path.write_text(path.read_text(encoding="utf-8").replace("Pour {{hot water}}", "Pour {{hot}} water"))
    killed = killed_build(step, suffix, 2 if step == "replace" else 1, "--source", str(source), "--out", str(out))
    assert killed.returncode < 0, killed.stderr
    result = push(out, server.url)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # every package is the last build's: none skipped
    assert result.stdout.splitlines()[-1] == f"Pushed 2 packages to Anki at {server.url}."
    text = " ".join(field for nid in col.find_notes("") for field in col.get_note(nid).fields)
    pours = {"new": text.count("{{c1::hot}} water"), "old": text.count("{{c1::hot water}}")}
    assert pours[sent] == 2 and sum(pours.values()) == 2, pours  # both topics, from the same build

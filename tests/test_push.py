"""``deckgen push`` against a stand-in for AnkiConnect that imports into a real Anki collection.

The stand-in speaks AnkiConnect's protocol (``{"action", "version", "params",
"key"}`` in, ``{"result", "error"}`` out) and performs ``importPackage`` the
way AnkiConnect does: Anki's package importer, with note types merged and
scheduling kept (AnkiConnect's ``AnkiPackageImporter`` is exactly that in
current Anki).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from anki.collection import Collection
from click.testing import CliRunner

from generator.cli import main
from generator.connect.push import NOT_RUNNING
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build

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
    build(BuildConfig(str(source), str(out), timestamp=T1))
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
    build(BuildConfig(str(source), str(out), timestamp=T2))
    second = push(out, server.url)
    assert second.exit_code == 0, second.output
    assert {col.get_note(nid).guid: nid for nid in col.find_notes("")} == notes  # no note added or duplicated
    edited = [nid for nid in notes.values() if "China}}, first." in " ".join(col.get_note(nid).fields)]
    assert edited  # the edit arrived, in the notes the student already had
    assert dict(col.db.all("select cid, count() from revlog group by cid")) == history
    assert sum(history.values()) == studied


def test_anki_not_running_is_one_line_and_exit_1(tmp_path):
    out = tmp_path / "decks"
    build(BuildConfig(str(write_source(tmp_path / "src", V1)), str(out), timestamp=T1))
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = push(out, url)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.stderr == f"Error: {NOT_RUNNING}: nothing answers at {url} (connection refused)\n"
    assert result.stdout == ""


def test_a_wrong_key_shows_ankiconnects_error(tmp_path):
    out = tmp_path / "decks"
    build(BuildConfig(str(write_source(tmp_path / "src", V1)), str(out), timestamp=T1))
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
            build(BuildConfig(str(write_source(tmp_path / "src", V1)), str(out), timestamp=T1))
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
        ("https://127.0.0.1:8765", "--url 'https://127.0.0.1:8765' must be an http:// address, such as http://127.0.0.1:8765"),
        ("http://[::1", "--url 'http://[::1' is not a URL: Invalid IPv6 URL"),
    ],
)
def test_a_url_that_cannot_be_ankiconnect_is_one_line(tmp_path, url, message):
    result = push(tmp_path, url)
    assert (result.exit_code, result.stderr, result.stdout) == (1, f"Error: {message}\n", "")


def test_a_proxy_in_the_environment_is_not_used(tmp_path, monkeypatch):
    """AnkiConnect is on this computer: a proxy would see the key and the paths (a review's finding)."""
    out = tmp_path / "decks"
    built = build(BuildConfig(str(write_source(tmp_path / "src", V1)), str(out), timestamp=T1))
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
    build(BuildConfig(str(write_source(tmp_path / "src", V1)), str(out), timestamp=T1))
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
    build(BuildConfig(str(source), str(out), timestamp=T1))
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


def test_a_package_a_watch_made_with_edits_the_lock_does_not_hold_is_not_pushed(tmp_path, anki):
    """A watch times an edit by its save's clock and leaves the lock as it was: pushed, then reverted, the note
    would go back to the lock's older time, which Anki does not take, and the draft would stay with the student."""
    col, server = anki
    source = write_source(tmp_path / "src", V1)
    (source / "more.yaml").write_text(V1.replace("basics", "more").replace("Basics", "More").replace("id: ", "id: m-"))
    out = tmp_path / "decks"
    build(BuildConfig(str(source), str(out), timestamp=T1, release=True))
    topic = source / "basics.yaml"
    topic.write_text(V1.replace("Tea comes from {{China}}.", "Tea comes from {{China}} (draft)."), encoding="utf-8")
    build(BuildConfig(str(source), str(out), timestamp=T1 + 10, write_lock=False))  # as a watch's save builds
    during = push(out, server.url)
    assert during.exit_code == 0, during.output
    assert during.stderr == f"note: {out / 'basics.apkg'} holds edits of a `deckgen watch` the lock does not hold: " \
        "build first (deckgen build); not pushed\n"
    assert [r["params"]["path"] for r in server.requests if r["action"] == "importPackage"] == [
        str((out / "more.apkg").resolve())]
    topic.write_text(V1, encoding="utf-8")  # the draft reverted, then built and pushed: the lock's text arrives
    build(BuildConfig(str(source), str(out), timestamp=T2, release=True))
    after = push(out, server.url)
    assert after.exit_code == 0 and after.stderr == ""
    texts = " ".join(field for nid in col.find_notes("") for field in col.get_note(nid).fields)
    assert "(draft)" not in texts and "Tea comes from {{c1::China}}." in texts


# --- servers that are not AnkiConnect: one line each, never a traceback, never a hang ------------


class RawServer:
    """A TCP server on 127.0.0.1 whose every connection gets *answer(connection)* once its request is read."""

    def __init__(self, answer) -> None:
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requests = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return  # closed
            threading.Thread(target=self._one, args=(connection,), daemon=True).start()

    def _one(self, connection: socket.socket) -> None:
        with connection:
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            head, body = data.split(b"\r\n\r\n", 1)
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
            while len(body) < length:
                body += connection.recv(65536)
            self.requests += 1
            try:
                self.answer(connection)
            except OSError:
                pass  # the client gave up, as it should

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def built(tmp_path: Path) -> Path:
    out = tmp_path / "decks"
    build(BuildConfig(str(write_source(tmp_path / "src", V1)), str(out), timestamp=T1))
    return out


def reply(status: bytes, headers: bytes = b"", body: bytes = b"") -> bytes:
    return b"HTTP/1.1 " + status + b"\r\n" + headers + b"Content-Length: %d\r\n\r\n" % len(body) + body


def refused_by(out: Path, answer, *extra: str) -> tuple[str, str]:
    """Push to a server answering with *answer*; the URL and the one error line (after checking exit 1, no traceback)."""
    server = RawServer(answer)
    try:
        result = push(out, server.url, *extra)
    finally:
        server.close()
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stdout == "" and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return server.url, result.stderr


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (b"SSH-2.0-OpenSSH_9.6\r\n", "not an HTTP answer"),  # BadStatusLine
        (b"", "it closed the connection without an answer"),
        (b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"result"', "the answer was cut short"),  # IncompleteRead
        (b"HTTP/1.1 200 OK\r\n" + b"X-Many: 1\r\n" * 101 + b"\r\n", "headers beyond what HTTP clients accept"),
        (b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70_000 + b"\r\n\r\n", "a header line too long"),
    ],
    ids=["ssh", "hang-up", "cut", "101 headers", "70 KB header"],
)
def test_a_server_that_does_not_speak_http_is_one_line(built, answer, reason):
    url, error = refused_by(built, lambda connection: connection.sendall(answer))
    assert error == f"Error: {url} did not answer as AnkiConnect does ({reason})\n"


def test_a_reply_nested_200k_deep_is_not_json_to_deckgen(built):
    deep = b"[" * 200_000 + b"]" * 200_000
    url, error = refused_by(built, lambda connection: connection.sendall(reply(b"200 OK", body=deep)))
    assert error == f"Error: {url} did not answer JSON: is it AnkiConnect?\n"


def test_a_reply_claiming_3_gb_is_refused_unread(built):
    def huge(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3000000000\r\n\r\n")
        while True:  # until deckgen hangs up
            connection.sendall(bytes(1 << 20))

    url, error = refused_by(built, huge)
    assert error == f"Error: {url} answered 3000000000 bytes, more than the 16 MiB deckgen reads: is it AnkiConnect?\n"


def test_an_endless_reply_is_read_only_up_to_the_cap(built):
    import tracemalloc

    def endless(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")  # no length: the body ends when the server closes
        while True:
            connection.sendall(bytes(1 << 20))

    tracemalloc.start()
    try:
        url, error = refused_by(built, endless)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error == f"Error: {url} answered more, more than the 16 MiB deckgen reads: is it AnkiConnect?\n"
    assert peak < 64 << 20


@pytest.mark.parametrize(
    "head", [b"", b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"], ids=["in the headers", "in the body"]
)
def test_a_reply_that_drips_is_cut_at_the_total_deadline(built, monkeypatch, head):
    """A byte every 0.2 s never trips the socket's timeout; the deadline on the whole answer does."""
    from generator.connect import push as pushing

    monkeypatch.setattr(pushing, "VERSION_TIMEOUT", 1.5)

    def drip(connection: socket.socket) -> None:
        connection.sendall(head)
        for byte in b"HTTP/1.1 200 OK\r\n" * (not head) + b"X" * 10_000:
            connection.sendall(bytes([byte]))
            time.sleep(0.2)

    started = time.monotonic()
    url, error = refused_by(built, drip)
    assert error == f"Error: {url} did not answer within 1.5 s: is it AnkiConnect, and is Anki responding?\n"
    assert time.monotonic() - started < 5


def test_a_redirect_is_an_error_and_not_followed(built, tmp_path):
    col = open_collection(tmp_path / "anki")
    try:
        for elsewhere in serve(col):
            location = elsewhere.url.encode() + b"/"
            url, error = refused_by(built, lambda c, to=location: c.sendall(reply(b"302 Found", b"Location: " + to + b"\r\n")))
            assert error == (
                f"Error: {url} answered HTTP 302 Found, a redirect to {elsewhere.url}/: push follows no redirect "
                "(the key and the paths would go there); give AnkiConnect's own --url\n"
            )
            assert elsewhere.requests == [] and col.note_count() == 0
    finally:
        col.close()


def test_the_key_comes_from_the_environment_or_a_file(built, tmp_path, monkeypatch):
    """--key shows the key in ps and in the shell's history; the variable and the file do not."""
    key_file = tmp_path / "key"
    key_file.write_text("secret\n", encoding="utf-8")
    col = open_collection(tmp_path / "anki")
    try:
        for server in serve(col, key="secret"):
            monkeypatch.setenv("DECKGEN_ANKICONNECT_KEY", "secret")
            assert push(built, server.url).exit_code == 0
            monkeypatch.setenv("DECKGEN_ANKICONNECT_KEY", "stale")
            assert push(built, server.url, "--key-file", str(key_file)).exit_code == 0  # the file asked for wins
            asked = [r["key"] for r in server.requests if r["action"] in ("version", "importPackage")]
            assert asked == ["secret"] * 4 and {r["key"] for r in server.requests} == {"secret"}
            both = push(built, server.url, "--key", "x", "--key-file", str(key_file))
            assert both.exit_code == 2 and "--key and --key-file both give the key; give one of them" in both.stderr
    finally:
        col.close()


@pytest.mark.parametrize(("content", "reason"), [(None, "no such file or directory"), ("\nsecret", "the first line is empty")])
def test_an_unreadable_key_file_is_one_line(built, tmp_path, content, reason):
    key_file = tmp_path / "key"
    if content is not None:
        key_file.write_text(content, encoding="utf-8")
    result = push(built, "http://127.0.0.1:9", "--key-file", str(key_file))
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: --key-file {key_file}: ")
    assert reason in result.stderr and result.stderr.count("\n") == 1

"""``deckgen push``: send the built packages to a running Anki through the AnkiConnect add-on.

AnkiConnect (add-on 2055492159) listens on ``http://127.0.0.1:8765`` and
answers JSON ``{"action", "version", "params", "key"}`` requests with
``{"result", "error"}``.  ``push`` asks its ``version`` first, then sends one
``importPackage`` per package with the package's absolute path: Anki reads the
file itself and imports it as its File > Import would, so a re-import updates
notes in place and keeps every card's history.  Standard library only.
"""

from __future__ import annotations

import glob
import http.client
import json
import os
import socket
import threading
import urllib.parse
from collections.abc import Callable, Sequence

from generator.connect.notices import Marked, mark_removed, removed_notes
from generator.errors import DeckgenError, printable
from generator.pipeline.cache import sha256
from generator.pipeline.cachefile import read_cache
from generator.pipeline.journal import recover

DEFAULT_URL = "http://127.0.0.1:8765"
API_VERSION = 6
"""The AnkiConnect API version deckgen speaks (and the oldest it accepts)."""
TIMEOUT = 300.0
"""Seconds an answer may take in all: a large package takes Anki a while to import."""
VERSION_TIMEOUT = 10.0
"""Seconds the first question may take in all: a server that hangs is not AnkiConnect."""
MAX_REPLY = 16 * 1024 * 1024
"""Bytes of an answer read at most.  AnkiConnect answers push's questions with a number or ``true``
(a few dozen bytes); 16 MiB leaves room for any error text it could send, and a reply that never ends
(or claims gigabytes) is refused before it fills the memory."""
NOT_RUNNING = "Anki is not running, or the AnkiConnect add-on (2055492159) is not installed"


class AnkiConnect:
    """A client of one AnkiConnect server.

    Plain :mod:`http.client`, not urllib: urllib follows redirects (a 302 would
    send the key and the paths to another host) and consults proxies, and
    neither bounds an answer's size nor its total time.  Every answer here is
    read by :class:`_Exchange` under both bounds, and nothing is followed.
    """

    def __init__(self, url: str = DEFAULT_URL, key: str | None = None, timeout: float = TIMEOUT) -> None:
        self.url = check_url(url)
        self.key = key
        self.timeout = timeout

    def call(self, action: str, *, timeout: float | None = None, **params: object) -> object:
        """Perform *action* and return its result; AnkiConnect's error, or none answering, as a DeckgenError."""
        reply = self._post(self._request(action, params), timeout or self.timeout)
        if not isinstance(reply, dict) or not {"result", "error"} <= reply.keys():
            raise DeckgenError(f"{self.url} answered {action!r}, but not as AnkiConnect does: {_shown(reply)}")
        if reply["error"] is not None:
            raise DeckgenError(f"AnkiConnect at {self.url} refused {action!r}: {_short(str(reply['error']))}")
        return reply["result"]

    def _request(self, action: str, params: dict[str, object]) -> bytes:
        """The JSON body of a request (the key only when there is one)."""
        body: dict[str, object] = {"action": action, "version": API_VERSION, "params": params}
        if self.key is not None:
            body["key"] = self.key
        return json.dumps(body).encode("utf-8")

    def _post(self, data: bytes, timeout: float) -> object:
        """POST *data* and parse the answer as JSON."""
        text = _Exchange(self.url, timeout).post(data)
        try:
            return json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: an answer nested thousands deep
            raise DeckgenError(f"{self.url} did not answer JSON: is it AnkiConnect?") from None


class _Exchange:
    """One request and its answer, under a total deadline and a size cap, every failure one DeckgenError.

    The socket's own timeout bounds each wait, not the whole: a server that
    drips a byte every few seconds never trips it.  A timer shuts the socket
    down when the deadline passes, which ends any read in progress.
    """

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self.expired = threading.Event()
        self.sock: socket.socket | None = None
        self.response: http.client.HTTPResponse | None = None
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname or "", parts.port
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def post(self, data: bytes) -> bytes:
        """The body of the answer to a POST of *data*."""
        try:
            # Never through a proxy (http.client knows none): AnkiConnect is on this computer, and a
            # proxy would see the key and the paths.
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.connection.connect()
            # Kept: http.client lets go of its socket once an answer says "Connection: close".
            self.sock = self.connection.sock
        except (OSError, ValueError) as error:  # ValueError: a host name http.client or IDNA refuses
            raise DeckgenError(f"{NOT_RUNNING}: nothing answers at {self.url} ({_reason(error)})") from None
        timer = threading.Timer(self.timeout, self._expire)
        timer.daemon = True
        timer.start()
        try:
            body = self._exchange(data)
        except (http.client.HTTPException, OSError, ValueError) as error:
            if self.expired.is_set() or isinstance(error, TimeoutError):
                raise self._late() from None
            raise DeckgenError(f"{self.url} did not answer as AnkiConnect does ({_http_reason(error)})") from None
        finally:
            timer.cancel()
            if self.response is not None:
                self.response.close()
            self.connection.close()
        if self.expired.is_set():  # a body that ends when the server closes also "ends" at the shutdown
            raise self._late()
        return body

    def _late(self) -> DeckgenError:
        """The error for an answer not complete by the deadline."""
        return DeckgenError(
            f"{self.url} did not answer within {self.timeout:g} s: is it AnkiConnect, and is Anki responding?"
        )

    def _expire(self) -> None:
        """The deadline passed: end whatever read is waiting (the exchange then reports the time)."""
        self.expired.set()
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed: the exchange is over

    def _exchange(self, data: bytes) -> bytes:
        """Send the request; the answer's body if it is a 200, else a DeckgenError naming the status."""
        self.connection.request("POST", self.path, body=data, headers={"Content-Type": "application/json"})
        response = self.response = self.connection.getresponse()
        if 300 <= response.status < 400:
            where = _short(response.getheader("Location") or "nowhere")
            raise DeckgenError(
                f"{self.url} answered HTTP {response.status} {_short(response.reason)}, a redirect to {where}: "
                "push follows no redirect (the key and the paths would go there); give AnkiConnect's own --url"
            )
        if response.status != 200:
            raise DeckgenError(
                f"{self.url} answered HTTP {response.status} {_short(response.reason)}: is it AnkiConnect?"
            )
        return self._body(response)

    def _body(self, response: http.client.HTTPResponse) -> bytes:
        """The answer's body, refused unread if it says it is larger than :data:`MAX_REPLY`, else read up to it."""
        declared = response.length
        if declared is not None and declared > MAX_REPLY:
            raise self._too_large(f"{declared} bytes")
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read(min(65536, MAX_REPLY + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_REPLY:
                raise self._too_large("more")
        if declared is not None and size < declared:  # read(amt) returns short at the end, never raises
            raise http.client.IncompleteRead(b"".join(chunks), declared - size)
        return b"".join(chunks)

    def _too_large(self, size: str) -> DeckgenError:
        """The error for an answer of *size* (its Content-Length, or "more") beyond :data:`MAX_REPLY`."""
        return DeckgenError(
            f"{self.url} answered {size}, more than the {MAX_REPLY // 2**20} MiB deckgen reads: is it AnkiConnect?"
        )


def check_url(url: str) -> str:
    """*url* if it can name an AnkiConnect server (http, a host, a numeric port), else a DeckgenError.

    AnkiConnect speaks plain http on this computer; https would be a different
    server (and was reported as "Anki is not running" after a TLS failure).
    """
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise DeckgenError(f"--url {printable(url)!r} is not a URL: {error}") from None
    if parts.scheme != "http" or not parts.hostname or not url.isprintable():
        raise DeckgenError(f"--url {printable(url)!r} must be an http:// address, such as {DEFAULT_URL}")
    return url


def read_key(path: str) -> str:
    """The API key on the first line of the file *path* (``--key-file``), or a DeckgenError."""
    try:
        with open(path, encoding="utf-8") as handle:
            line = handle.readline(4096)  # a key is short: a huge or endless file is not read whole
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not UTF-8 text"
        raise DeckgenError(f"--key-file {printable(path)}: cannot read the key: {reason.lower()}") from None
    key = line.rstrip("\r\n")
    if not key:
        raise DeckgenError(f"--key-file {printable(path)}: the first line is empty; write the API key there")
    return key


def _reason(error: Exception) -> str:
    """Why a connection failed, in a few words ("connection refused", "timed out")."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return printable(str(error)) or type(error).__name__


_HTTP_FAULTS: tuple[tuple[type[Exception], str], ...] = (
    (http.client.RemoteDisconnected, "it closed the connection without an answer"),
    (http.client.BadStatusLine, "not an HTTP answer"),
    (http.client.IncompleteRead, "the answer was cut short"),
    (http.client.LineTooLong, "a header line too long"),
    (http.client.HTTPException, "headers beyond what HTTP clients accept"),  # e.g. more than 100 headers
)


def _http_reason(error: Exception) -> str:
    """What was wrong with an answer, in a few words."""
    for kind, words in _HTTP_FAULTS:
        if isinstance(error, kind):
            return words
    return _reason(error)


def _short(text: str) -> str:
    """*text* shortened to fit a message line."""
    text = printable(text)
    return text if len(text) <= 80 else text[:79] + "…"


def _shown(reply: object) -> str:
    """A reply, shortened to fit a message line."""
    return _short(json.dumps(reply))


NOT_BUILT = "was not written by the last build from the source"
"""Why a package is not pushed: a renamed topic's old package, a custom deck."""
DRAFTED = "holds edits of a `deckgen watch` the lock does not hold: build first (deckgen build)"
"""Why a package is not pushed: a watch made it, its notes timed by a save's clock the lock never recorded, so
a build that brings a note back as the lock has it gives it the lock's older time, which Anki would not take."""


def packages(out_dir: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The packages in *out_dir* the last build wrote or kept, sorted, and the others, each with why it is left
    out (:data:`NOT_BUILT`, :data:`DRAFTED`); an error if there is none to push."""
    found = sorted(p for p in glob.glob(os.path.join(glob.escape(out_dir), "*.apkg")) if os.path.isfile(p))
    cache = read_cache(out_dir)  # none (a custom build, or none yet): every package is pushed
    built = {entry.name: entry.sha256 for entry in cache.files} if cache is not None else None
    drafted = {r.sha256 for r in cache.topics.values() if r.timed is not None} if cache is not None else set()
    others: list[tuple[str, str]] = []
    for path in found:
        digest = _sha256(path) if built is not None else ""
        if built is not None and built.get(os.path.basename(path)) != digest:
            others.append((path, NOT_BUILT))
        elif digest in drafted:
            others.append((path, DRAFTED))
    left_out = {path for path, _ in others}
    found = [p for p in found if p not in left_out]
    if not found:
        raise DeckgenError(f"{out_dir}: no .apkg package to push; build them first with: deckgen build --out {out_dir}")
    return found, others


def _sha256(path: str) -> str:
    """A package's SHA-256: one overwritten since (by a custom build of the same name) is not the built one."""
    with open(path, "rb") as handle:
        return sha256(handle.read())


def push(
    out_dir: str,
    url: str = DEFAULT_URL,
    key: str | None = None,
    pushed: Callable[[str], None] | None = None,
    skipped: Callable[[str, str], None] | None = None,
    marked: Callable[[Marked], None] | None = None,
) -> Sequence[str]:
    """Import every package of *out_dir* into the Anki behind *url*; call *pushed* after each one.

    Then mark the notes removed from the source in that Anki (see
    :mod:`generator.connect.notices`) and call *marked* with what it did.
    """
    client = AnkiConnect(url, key)  # a bad --url first: it is the same mistake whatever is built
    recover(out_dir, command="push")  # a build killed mid-commit: finished or undone before a package is read
    paths, others = packages(out_dir)
    if skipped is not None:
        for path, why in others:
            skipped(path, why)
    check_version(client)
    for path in paths:
        import_package(client, path)
        if pushed is not None:
            pushed(path)
    lock = removed_notes(out_dir)
    if lock is not None:
        result = mark_removed(client, *lock, paths)
        if marked is not None:
            marked(result)
    return paths


def check_version(client: AnkiConnect) -> int:
    """AnkiConnect's API version, which must be :data:`API_VERSION` or newer."""
    version = client.call("version", timeout=VERSION_TIMEOUT)
    if not isinstance(version, int) or isinstance(version, bool) or version < API_VERSION:
        raise DeckgenError(
            f"AnkiConnect at {client.url} speaks API version {_shown(version)}; deckgen push needs "
            f"{API_VERSION} or newer: update the add-on (Tools > Add-ons > Check for Updates)"
        )
    return version


def import_package(client: AnkiConnect, path: str) -> None:
    """Ask Anki to import the package at *path* (absolute: Anki reads it itself)."""
    if client.call("importPackage", path=os.path.abspath(path)) is not True:
        raise DeckgenError(f"Anki did not import {path}: is a profile open in Anki?")

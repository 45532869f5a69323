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
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence

from generator.build.cache import read_cache, sha256
from generator.build.journal import recover
from generator.connect.notices import Marked, mark_removed, removed_notes
from generator.errors import DeckgenError, printable

DEFAULT_URL = "http://127.0.0.1:8765"
API_VERSION = 6
"""The AnkiConnect API version deckgen speaks (and the oldest it accepts)."""
TIMEOUT = 300.0
"""Seconds to wait for an answer: a large package takes Anki a while to import."""
VERSION_TIMEOUT = 10.0
"""Seconds to wait for the first question: a server that hangs is not AnkiConnect."""
# AnkiConnect is on this computer (it reads the packages by path): never through a proxy,
# which would also see the key and the paths.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
NOT_RUNNING = "Anki is not running, or the AnkiConnect add-on (2055492159) is not installed"


class AnkiConnect:
    """A client of one AnkiConnect server."""

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
            raise DeckgenError(f"AnkiConnect at {self.url} refused {action!r}: {printable(str(reply['error']))}")
        return reply["result"]

    def _request(self, action: str, params: dict[str, object]) -> bytes:
        """The JSON body of a request (the key only when there is one)."""
        body: dict[str, object] = {"action": action, "version": API_VERSION, "params": params}
        if self.key is not None:
            body["key"] = self.key
        return json.dumps(body).encode("utf-8")

    def _post(self, data: bytes, timeout: float) -> object:
        """POST *data* and parse the answer as JSON."""
        request = urllib.request.Request(self.url, data=data, headers={"Content-Type": "application/json"})
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                text = response.read()
        except urllib.error.HTTPError as error:
            raise DeckgenError(f"{self.url} answered HTTP {error.code} {error.reason}: is it AnkiConnect?") from None
        except (urllib.error.URLError, OSError, ValueError) as error:  # ValueError: http.client's odd URLs
            raise DeckgenError(f"{NOT_RUNNING}: nothing answers at {self.url} ({_reason(error)})") from None
        try:
            return json.loads(text)
        except ValueError:
            raise DeckgenError(f"{self.url} did not answer JSON: is it AnkiConnect?") from None


def check_url(url: str) -> str:
    """*url* if it can name an AnkiConnect server (http or https, a host, a numeric port), else a DeckgenError."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as error:
        raise DeckgenError(f"--url {printable(url)!r} is not a URL: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not url.isprintable():
        raise DeckgenError(f"--url {printable(url)!r} must be an http:// address, such as {DEFAULT_URL}")
    return url


def _reason(error: Exception) -> str:
    """Why a connection failed, in a few words ("connection refused", "timed out")."""
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return printable(str(reason)) or type(reason).__name__


def _shown(reply: object) -> str:
    """A reply, shortened to fit a message line."""
    text = printable(json.dumps(reply))
    return text if len(text) <= 80 else text[:79] + "…"


def packages(out_dir: str) -> tuple[list[str], list[str]]:
    """The packages in *out_dir* the last build wrote or kept, sorted, and the others; an error if there is none.

    The others (a renamed topic's old package, a custom deck) are what
    ``deckgen build`` calls not built from the source: never pushed unasked.
    """
    found = sorted(p for p in glob.glob(os.path.join(glob.escape(out_dir), "*.apkg")) if os.path.isfile(p))
    built = _last_built(out_dir)
    others = [p for p in found if built is not None and built.get(os.path.basename(p)) != _sha256(p)]
    found = [p for p in found if p not in others]
    if not found:
        raise DeckgenError(f"{out_dir}: no .apkg package to push; build them first with: deckgen build --out {out_dir}")
    return found, others


def _last_built(out_dir: str) -> dict[str, str] | None:
    """Name -> SHA-256 of the packages the last default build in *out_dir* wrote or kept (its cache), or None."""
    cache = read_cache(out_dir)
    try:
        return {str(entry["name"]): str(entry["sha256"]) for entry in cache["files"]} if cache else None
    except (KeyError, TypeError):
        return None  # no cache (a custom build, or none yet): every package is pushed


def _sha256(path: str) -> str:
    """A package's SHA-256: one overwritten since (by a custom build of the same name) is not the built one."""
    with open(path, "rb") as handle:
        return sha256(handle.read())


def push(
    out_dir: str,
    url: str = DEFAULT_URL,
    key: str | None = None,
    pushed: Callable[[str], None] | None = None,
    skipped: Callable[[str], None] | None = None,
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
        for path in others:
            skipped(path)
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

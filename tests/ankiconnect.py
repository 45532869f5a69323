"""A stand-in for the AnkiConnect add-on that answers with a real Anki collection.

It speaks AnkiConnect's protocol (``{"action", "version", "params", "key"}``
in, ``{"result", "error"}`` out) and performs each action the way
AnkiConnect's ``plugin/__init__.py`` does: ``importPackage`` is Anki's package
importer with note types merged and scheduling kept, searches are Anki's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest


class FakeAnkiConnect(HTTPServer):
    """AnkiConnect's protocol in front of a real collection."""

    def __init__(self, col: Collection, key: str | None = None, version: int = 6) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.col, self.key, self.version = col, key, version
        self.requests: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, request: dict) -> dict:
        self.requests.append(request)
        if request.get("key") != self.key:
            return {"result": None, "error": "valid api key must be provided"}
        if request["action"] == "version":
            return {"result": self.version, "error": None}
        if request["action"] == "importPackage":
            return {"result": self.import_package(request["params"]["path"]), "error": None}
        action = getattr(self, "do_" + request["action"], None)
        if action is None:
            return {"result": None, "error": "unsupported action"}
        return {"result": action(**request["params"]), "error": None}

    # What push asks besides importing, as AnkiConnect answers it (its plugin/__init__.py).
    def do_findNotes(self, query: str) -> list[int]:  # noqa: N802
        return list(self.col.find_notes(query))

    def do_findCards(self, query: str) -> list[int]:  # noqa: N802
        return list(self.col.find_cards(query))

    def do_notesInfo(self, notes: list[int]) -> list[dict]:  # noqa: N802
        result = []
        for nid in notes:
            note = self.col.get_note(nid)
            fields = {name: {"value": value, "order": i} for i, (name, value) in enumerate(note.items())}
            result.append({"noteId": nid, "tags": note.tags, "fields": fields, "cards": list(note.card_ids())})
        return result

    def do_deleteNotes(self, notes: list[int]) -> None:  # noqa: N802
        self.col.remove_notes(notes)

    def do_deleteDecks(self, decks: list[str], cardsToo: bool = False) -> None:  # noqa: N802, N803
        assert cardsToo, "AnkiConnect refuses deleteDecks without cardsToo"
        ids = [d for name in decks if (d := self.col.decks.id_for_name(name))]
        self.col.decks.remove(ids)

    def do_removeTags(self, notes: list[int], tags: str) -> None:  # noqa: N802
        self.col.tags.bulk_remove(notes, tags)

    def do_suspend(self, cards: list[int]) -> bool:
        self.col.sched.suspend_cards(cards)
        return True

    def do_unsuspend(self, cards: list[int]) -> bool:
        self.col.sched.unsuspend_cards(cards)
        return True

    def import_package(self, path: str) -> bool:
        options = ImportAnkiPackageOptions(merge_notetypes=True, with_scheduling=True, with_deck_configs=True)
        self.col.import_anki_package(ImportAnkiPackageRequest(package_path=path, options=options))
        self.col.models._clear_cache()
        return True


class _Handler(BaseHTTPRequestHandler):
    server: FakeAnkiConnect

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        data = json.dumps(self.server.answer(json.loads(body))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet test output
        pass


def serve(col: Collection, **options) -> Iterator[FakeAnkiConnect]:
    server = FakeAnkiConnect(col, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()

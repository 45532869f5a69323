"""``deckgen watch``: rebuild the decks and the preview page on every save, and serve the page live.

Each change of a source file runs :func:`rebuild`: the source is checked as
``deckgen check`` checks it; a valid source is built into the output folder
(the normal, all-or-nothing build, except that the lock is never written) and
its preview page written there, as ``deckgen preview`` writes it.  A source
with problems writes nothing.

:class:`LivePage` is what the server shows: the last preview page, or the
problems over the last good cards.  Only the served copy gets the live-reload
script (it polls :data:`VERSION_PATH` and reloads when a rebuild finished);
the file on disk stays the plain, self-contained page.

watchfiles (the ``watch`` extra) is imported only here, when the watch starts.
"""

from __future__ import annotations

import contextlib
import errno
import html
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from generator.errors import ContentError, DeckgenError, Problem, counted
from generator.pipeline.config import BuildConfig
from generator.pipeline.memo import read_memo
from generator.pipeline.pipeline import BuildReport, build
from generator.source.media import FORMATS as MEDIA_FORMATS
from generator.views.preview import ShownTopics, write_preview

DEFAULT_PORT = 8000
HOST = "127.0.0.1"
VERSION_PATH = "/__deckgen/version"
PREVIEW_NAME = "preview.html"
MISSING_WATCHFILES = "deckgen watch needs the watchfiles package: pip install 'deckgen-yaml[watch]'"

Say = Callable[[str], None]


@dataclass(frozen=True)
class Console:
    """Where the watch prints: what it did to *say*, problems and warnings (as check prints them) to *warn*."""

    say: Say
    warn: Say


# --- one rebuild --------------------------------------------------------------------


@dataclass(frozen=True)
class Rebuilt:
    """What one rebuild made: the preview page, or the problems that stopped it (nothing written)."""

    page: str | None
    problems: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    report: BuildReport | None = None


def rebuild(source_dir: str, out_dir: str, shown: ShownTopics | None = None) -> Rebuilt:
    """Check the source; if it is valid, build the decks into *out_dir* and write its preview page there.

    *shown*: the topics the watch's last preview made, shown again where nothing they are made of changed.
    """
    preview = os.path.join(out_dir, PREVIEW_NAME)
    try:
        # build checks the whole source as `deckgen check` does before it writes a byte (a source with
        # problems reaches no writer), and reuses the topics a save left as they were.
        # One process: forking beside the server's and the watcher's threads could deadlock, and a
        # save changes a topic or two (the build reuses the packages of the others).
        # The lock is left alone: what a save shows is a look, not a release, and notes that
        # come and go while the author edits must leave no tombstone (nor a new time) behind.
        report = build(BuildConfig(source_dir, out_dir, jobs=1, write_lock=False))
        write_preview(source_dir, preview, read_memo(out_dir), report.warnings, shown)
    except ContentError as error:
        return Rebuilt(None, tuple(str(problem) for problem in error.problems))
    except DeckgenError as error:  # e.g. an output folder that cannot be written
        return Rebuilt(None, (str(error),))
    with open(preview, encoding="utf-8") as handle:
        page = handle.read()
    return Rebuilt(page, warnings=tuple(report.warnings.lines()), report=report)


def describe(rebuilt: Rebuilt) -> str:
    """The one line the watch prints after a rebuild."""
    stamp = time.strftime("%H:%M:%S")
    report = rebuilt.report
    if report is None:
        return f"{stamp} {counted(len(rebuilt.problems), 'problem')} found; nothing was written"
    changed = ", ".join(f"{report.total(kind)} {kind}" for kind in ("added", "updated", "removed"))
    return (
        f"{stamp} built {counted(len(report.files), 'deck')}: {counted(report.notes, 'note')}, "
        f"{counted(report.cards, 'card')} ({changed}); preview updated"
    )


def print_rebuild(rebuilt: Rebuilt, console: Console) -> None:
    """Print a rebuild: each problem or warning on its own line, as ``deckgen check`` does, then a summary."""
    for line in rebuilt.problems or rebuilt.warnings:
        console.warn(line)
    console.say(describe(rebuilt))


# --- the served page ------------------------------------------------------------------

# Polls rather than holding a connection open: one small request every quarter
# second keeps the server a plain http.server and survives its restart (a new
# watch has a new version, so the page reloads onto it).
_RELOAD_JS = """\
(function () {
  var shown = %s;
  function poll() {
    fetch("%s", {cache: "no-store"}).then(function (response) { return response.text(); }).then(
      function (version) { if (version !== shown) { location.reload(); } else { setTimeout(poll, 250); } },
      function () { setTimeout(poll, 1000); });
  }
  setTimeout(poll, 250);
})();
"""

# Sticky over the page's own sticky bar: a reload keeps the reader's scroll position
# (Chromium even anchors it to the cards), and the problems must be in view wherever that is.
_PROBLEMS_CSS = """\
.dg-problems { position: sticky; top: 0; z-index: 3; max-height: 50vh; overflow: auto; box-sizing: border-box;
  margin: 0; padding: 14px 20px; background: #fff1f0; color: #5c0011; border-bottom: 2px solid #cf222e;
  box-shadow: 0 2px 8px rgba(0, 0, 0, 0.15); font: 14px/1.45 system-ui, sans-serif; }
.dg-problems h2 { margin: 0 0 8px; font-size: 16px; }
.dg-problems ul { margin: 0 0 8px; padding-left: 20px; }
.dg-problems code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.dg-problems p { margin: 0; }
"""

_EMPTY_PAGE = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    "<title>deckgen watch</title>\n</head>\n<body>\n</body>\n</html>\n"
)


def problems_html(problems: Iterable[str], *, has_cards: bool) -> str:
    """The banner that lists a refused rebuild's problems, each located as ``deckgen check`` prints it."""
    items = list(problems)
    rows = "".join(f"<li><code>{html.escape(line)}</code></li>" for line in items)
    below = "The cards below are from the last good build." if has_cards else "No build has succeeded yet."
    return (
        f'<style>\n{_PROBLEMS_CSS}</style>\n<section class="dg-problems" role="alert">'
        f"<h2>{counted(len(items), 'problem')}: the decks were not rebuilt</h2>"
        f"<ul>{rows}</ul><p>{below} Save a fix and this page updates.</p></section>\n"
    )


def live_page(page: str, version: str, banner: str = "") -> str:
    """*page* with *banner* at the top of its body and the live-reload script at the end."""
    script = f"<script>\n{_RELOAD_JS % (_js_string(version), VERSION_PATH)}</script>\n"
    end = page.rfind("</body>")
    page = page[:end] + script + page[end:]
    start = page.index(">", page.index("<body")) + 1
    return page[:start] + "\n" + banner + page[start:]


def _js_string(text: str) -> str:
    return '"' + "".join(c if c.isalnum() or c == "-" else f"\\u{ord(c):04x}" for c in text) + '"'


class LivePage:
    """The page the server shows and its version; each rebuild replaces both at once (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Unique per watch: a browser left open across a restart reloads instead of trusting an old number.
        self._run = f"{os.getpid()}-{time.time_ns()}"
        self._count = 0
        self._good: str | None = None
        self._publish("")

    def show(self, rebuilt: Rebuilt) -> None:
        """Show a rebuild: its page, or its problems over the last good page."""
        with self._lock:
            if rebuilt.page is not None:
                self._good = rebuilt.page
                self._publish("")
            else:
                self._publish(problems_html(rebuilt.problems, has_cards=self._good is not None))

    def _publish(self, banner: str) -> None:
        self._count += 1
        self._version = f"{self._run}-{self._count}"
        self._page = live_page(self._good or _EMPTY_PAGE, self._version, banner).encode("utf-8")

    def current(self) -> tuple[str, bytes]:
        """The version and the page, as one rebuild left them."""
        with self._lock:
            return self._version, self._page


# --- the server -------------------------------------------------------------------------


MAX_CONNECTIONS = 32
"""Connections served at once.  A browser opens about six per host; beyond 32, a client is holding
threads (one per connection) to starve the server, and a new connection is closed unanswered."""
IDLE_TIMEOUT = 10.0
"""Seconds a connection may stay silent: the page's own requests are sent whole at once (a poll every 250 ms)."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a browser's open connection must not keep Ctrl-C waiting

    def __init__(self, port: int, live: LivePage) -> None:
        super().__init__((HOST, port), _Handler)
        self.live = live
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve *request* in a thread of its own, or close it at once when every slot is taken."""
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started: it would have given the slot back
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Silent for a client that hung up or went quiet (a closed tab); socketserver's traceback otherwise."""
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


def allowed_host(host: str | None, port: int) -> bool:
    """Whether a request's Host header names this server: 127.0.0.1 or localhost, with its port or none.

    Any other name is a DNS rebinding: a page of another site whose name
    now points at 127.0.0.1, which would otherwise read the preview.
    """
    names = ("127.0.0.1", "localhost")
    return (host or "").lower() in {*names, *(f"{name}:{port}" for name in names)}


class _Handler(BaseHTTPRequestHandler):
    timeout = IDLE_TIMEOUT  # socketserver sets it on the socket: an idle client gives its thread back

    def do_GET(self) -> None:
        """The page at ``/``, its version at :data:`VERSION_PATH`; nothing else."""
        assert isinstance(self.server, _Server)
        host = self.headers.get("Host")
        if not host:
            self.send_error(400, "a Host header is required")
            return
        if not allowed_host(host, self.server.server_address[1]):
            self.send_error(421, "this server answers only to 127.0.0.1 and localhost")
            return
        version, page = self.server.live.current()
        path = urlsplit(self.path).path
        if path == VERSION_PATH:
            self._send(version.encode("ascii"), "text/plain; charset=utf-8")
        elif path in ("/", f"/{PREVIEW_NAME}"):
            self._send(page, "text/html; charset=utf-8")
        else:
            self.send_error(404)

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silent: a line per poll would bury the rebuild lines."""


def open_server(live: LivePage, port: int | None) -> ThreadingHTTPServer:
    """A server for *live* on 127.0.0.1: *port*, or (None) 8000 if free, else any free port."""
    try:
        return _Server(DEFAULT_PORT if port is None else port, live)
    except OSError as error:
        if port is None and error.errno == errno.EADDRINUSE:
            return _Server(0, live)
        raise DeckgenError(f"cannot serve on port {port}: {error.strerror or error}") from None


def url_of(server: ThreadingHTTPServer) -> str:
    """The address to open in a browser."""
    return f"http://{HOST}:{server.server_address[1]}/"


@contextlib.contextmanager
def serving(live: LivePage, port: int | None) -> Iterator[ThreadingHTTPServer]:
    """Serve *live* from a background thread while the block runs; stop the server after it."""
    server = open_server(live, port)
    # A short poll interval: shutdown() waits for the loop to notice, and Ctrl-C should end at once.
    serve = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    serve.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# --- the watch --------------------------------------------------------------------------


def _watchfiles() -> ModuleType:
    """The watchfiles module, or a one-line error that names the extra installing it."""
    try:
        import watchfiles
    except ImportError:
        raise DeckgenError(MISSING_WATCHFILES) from None
    return watchfiles


def source_filter(source_dir: str) -> Callable[[object, str], bool]:
    """Whether a changed path is a file a build reads.

    A .yaml or .yml directly in the source folder, or an image or sound
    anywhere under it; nothing hidden.
    """
    folder = os.path.realpath(source_dir)

    def is_input(change: object, path: str) -> bool:
        name = os.path.basename(path)
        # The lock and the build's temporary files are written beside the sources: no rebuild for them.
        if name[:1] == "." or not path.startswith(folder + os.sep):
            return False
        if os.path.dirname(path) == folder and name.lower().endswith((".yaml", ".yml")):
            return True
        hidden = any(part.startswith(".") for part in os.path.relpath(path, folder).split(os.sep))
        return not hidden and name.rsplit(".", 1)[-1].lower() in MEDIA_FORMATS

    return is_input


def on_change(
    source_dir: str, out_dir: str, live: LivePage, console: Console, shown: ShownTopics | None = None
) -> Rebuilt:
    """Handle one change: rebuild, print what happened, and show it on the served page."""
    rebuilt = rebuild(source_dir, out_dir, shown)
    print_rebuild(rebuilt, console)
    live.show(rebuilt)
    return rebuilt


def watch(
    source_dir: str,
    out_dir: str,
    console: Console,
    *,
    port: int | None = None,
    serve: bool = True,
    stop: threading.Event | None = None,
) -> None:
    """Build now and on every save of the source, until Ctrl-C (or *stop* is set); serve the page unless not *serve*.

    *port* None serves on 8000, or on any free port when 8000 is taken; 0 is any free port.
    """
    watchfiles = _watchfiles()
    if not os.path.isdir(source_dir):  # watchfiles needs the folder; said as `deckgen check` says it
        raise ContentError([Problem(source_dir, 1, "", "no such source folder")])
    live, shown = LivePage(), ShownTopics()
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(serving(live, port)) if serve else None
        try:
            for first in _rebuilds(watchfiles, source_dir, stop):
                on_change(source_dir, out_dir, live, console, shown)
                if first:
                    console.say(_watching(source_dir, out_dir, server))
        except KeyboardInterrupt:  # Ctrl-C is how a watch ends: no traceback
            console.say("Stopped.")


_IDLE_MS = 200
"""How long the watcher waits for a first change before it says it is ready (and again when idle)."""


def _rebuilds(watchfiles: ModuleType, source_dir: str, stop: threading.Event | None) -> Iterator[bool]:
    """A value per rebuild to do: True for the first one, once the watcher is live, then False per batch of saves.

    The first build waits for the watcher, so that a file saved while the
    watch starts is read by that build or seen by the watcher, never missed.
    """
    folder = os.path.realpath(source_dir)  # events name paths under it, as source_filter compares them
    batches = watchfiles.watch(
        folder, watch_filter=source_filter(source_dir), stop_event=stop, rust_timeout=_IDLE_MS, yield_on_timeout=True
    )
    for index, changes in enumerate(batches):
        if index == 0 or changes:  # an empty batch: a timeout while idle
            yield index == 0


def _watching(source_dir: str, out_dir: str, server: ThreadingHTTPServer | None) -> str:
    page = os.path.join(out_dir, PREVIEW_NAME)
    where = f"serving the preview on {url_of(server)}" if server else f"the preview is {page}"
    return f"Watching {source_dir} for changes; {where} (Ctrl-C stops)"

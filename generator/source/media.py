"""Media files an item declares: an image or an audio file inside the source folder.

A declared path is checked like every other source value, with a located
problem for each fault: it is a relative path that stays inside the source
folder (no ``..``, no absolute path, no symbolic link leading out), it names a
regular file of a kind deckgen accepts and of at most :data:`MAX_BYTES` for
its kind, and the file's bytes are what its extension says (magic numbers).
SVG is refused: an SVG file is a document that can carry script.

A file checked is packaged under a content-hashed name, ``<stem>-<hash>.<ext>``
(see :func:`packaged_name`): changed bytes are a new name, so the notes that
show the file change, and a student's collection never holds two different
files under one of deckgen's names.

The hash is the first :data:`HASH_BITS` = 128 bits of the SHA-256 (32 hex
digits).  Two files with one stem and one hash prefix would be one file in a
package and in a student's media folder: each card showing either shows the
same one.  Files need not be found by chance: two files of a course can be
made to collide on purpose (a pull request, a shared folder).  A birthday
search finds a collision of *b* bits in about 2^(b/2) hashes: at 32 bits (the
old names) in about a second, at 64 bits in minutes on one machine, at 96 bits
in hours on one graphics card; at 128 bits it takes 2^64 hashes, decades of
such hardware.  The names stay short: at most 40 + 1 + 32 + 5 = 78
characters, within the 120 bytes Anki keeps of a media file's name.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import unicodedata
from collections.abc import Callable
from typing import NamedTuple

from generator.source.content import MediaFile
from generator.source.guarded import read_regular
from generator.source.tree import Node
from generator.source.treeread import Reader

IMAGE, AUDIO = "image", "audio"
MEDIA_KINDS = (IMAGE, AUDIO)
"""The item keys that declare media, in the order a card shows them."""
MiB = 1024 * 1024
MAX_BYTES = {IMAGE: 2 * MiB, AUDIO: 10 * MiB}
"""The largest file of each kind: a card is read on a phone, and every package carries its files."""
MAX_STEM = 40
"""The most characters of a file's own name kept in its packaged name."""
HASH_BITS = 128
"""How much of the SHA-256 of a file's bytes its packaged name keeps (see the module's docstring)."""


class _Format(NamedTuple):
    """A file format deckgen packages: its kind, its name in messages, its MIME type and its magic test."""

    kind: str
    label: str
    mime: str
    matches: Callable[[bytes], bool]


def _mpeg_audio(data: bytes) -> bool:
    """An MP3: an ID3 tag, or an MPEG audio frame's sync bits (11 set bits, a valid layer)."""
    if data.startswith(b"ID3"):
        return True
    return len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0 and data[1] & 0x06 != 0


def _riff(form: bytes) -> Callable[[bytes], bool]:
    """A RIFF container of *form* (WebP, WAVE)."""
    return lambda data: data[:4] == b"RIFF" and data[8:12] == form


_PNG = _Format(IMAGE, "PNG image", "image/png", lambda data: data.startswith(b"\x89PNG\r\n\x1a\n"))
_JPEG = _Format(IMAGE, "JPEG image", "image/jpeg", lambda data: data.startswith(b"\xff\xd8\xff"))
_GIF = _Format(IMAGE, "GIF image", "image/gif", lambda data: data[:6] in (b"GIF87a", b"GIF89a"))
_WEBP = _Format(IMAGE, "WebP image", "image/webp", _riff(b"WEBP"))
_MP3 = _Format(AUDIO, "MP3 audio file", "audio/mpeg", _mpeg_audio)
_OGG = _Format(AUDIO, "Ogg audio file", "audio/ogg", lambda data: data.startswith(b"OggS"))
_M4A = _Format(AUDIO, "M4A (MP4) audio file", "audio/mp4", lambda data: data[4:8] == b"ftyp")
_WAV = _Format(AUDIO, "WAV audio file", "audio/wav", _riff(b"WAVE"))
FORMATS: dict[str, _Format] = {
    "png": _PNG, "jpg": _JPEG, "jpeg": _JPEG, "gif": _GIF, "webp": _WEBP,
    "mp3": _MP3, "ogg": _OGG, "m4a": _M4A, "wav": _WAV,
}
"""The accepted extensions (any case) and what a file of each must be by its bytes."""
_REFUSED = {
    "svg": "SVG is not accepted: an SVG file is a document that can carry script; export it as PNG",
    "svgz": "SVG is not accepted: an SVG file is a document that can carry script; export it as PNG",
}


class _Refused(ValueError):
    """A declared media file that cannot be used; the message says why."""


def read_media(
    reader: Reader, node: Node, *, kind: str, where: str, directory: str, seen: dict[str, MediaFile]
) -> MediaFile | None:
    """The media file of *kind* the value *node* declares, read and checked, or None after a problem.

    *seen* holds the files already read by their declared path, so a file
    several items show is read once (and packaged once).
    """
    declared = reader.text(node, where)
    if declared is None:
        return None
    try:
        path = _relative_path(declared)
        if path not in seen or seen[path].kind != kind:
            seen[path] = _load(directory, path, kind)
    except _Refused as refused:
        reader.problem(node, where, f"{declared!r}: {refused}")
        return None
    return seen[path]


def _relative_path(declared: str) -> str:
    """*declared* as a normal '/'-separated path inside the source folder."""
    if "\\" in declared:
        raise _Refused("write '/' between folders (e.g. images/diagram.png)")
    if declared.startswith("/") or re.match(r"[A-Za-z]:", declared):
        raise _Refused("is an absolute path; give a path inside the source folder (e.g. images/diagram.png)")
    if ".." in declared.split("/"):
        raise _Refused("'..' leads out of the source folder; keep media files inside it")
    return posixpath.normpath(declared)


def _load(directory: str, path: str, kind: str) -> MediaFile:
    """The file at *path* in *directory*: its format from its extension, checked against its bytes."""
    form = _format(path, kind)
    data = _file_bytes(directory, path, kind)
    _check_content(data, form, path)
    digest = hashlib.sha256(data).hexdigest()
    return MediaFile(path, packaged_name(path, digest), kind, form.mime, digest, data)


def _format(path: str, kind: str) -> _Format:
    """The format *path*'s extension names, if it is one of *kind* deckgen accepts."""
    extension = posixpath.splitext(path)[1][1:].lower()
    if extension in _REFUSED:
        raise _Refused(_REFUSED[extension])
    form = FORMATS.get(extension)
    if form is None or form.kind != kind:
        accepted = ", ".join(f".{ext}" for ext, known in FORMATS.items() if known.kind == kind)
        raise _Refused(f"an {kind} file must be one of: {accepted}")
    return form


def _inside(directory: str, path: str) -> str:
    """The file *path* names in *directory*, which it must not leave, even once links are followed."""
    full = os.path.join(directory, *path.split("/"))
    if not os.path.lexists(full):
        # The source's text is read as NFC; a file named on macOS is often NFD ("café" as "cafe" + accent).
        decomposed = os.path.join(directory, *unicodedata.normalize("NFD", path).split("/"))
        if not os.path.lexists(decomposed):
            raise _Refused("no such file in the source folder")
        full = decomposed
    root = os.path.realpath(directory)
    if os.path.commonpath([root, os.path.realpath(full)]) != root:
        raise _Refused("is a symbolic link that leads out of the source folder; keep media files inside it")
    return full


def _file_bytes(directory: str, path: str, kind: str) -> bytes:
    """The bytes of the regular file at *path* in *directory*, of at most the limit of its *kind*."""
    limit = MAX_BYTES[kind]
    data = read_regular(_inside(directory, path), limit)
    if isinstance(data, bytes):
        return data
    if data.reason == "too_big":
        raise _Refused(
            f"the file is {data.size:,} bytes; an {kind} file may be at most {limit // MiB} MiB ({limit:,} bytes)"
        )
    raise _Refused(_MEDIA_REFUSED.get(data.reason) or f"cannot be read: {data.detail}")


_MEDIA_REFUSED = {"directory": "is a folder, not a file", "special": "is not a regular file (a device, pipe or socket)"}


def _check_content(data: bytes, form: _Format, path: str) -> None:
    """Refuse *data* unless its first bytes are those of *form*."""
    if form.matches(data):
        return
    if not data:
        raise _Refused(f"the file is empty, not a {form.label}")
    actual = next((ext for ext, other in FORMATS.items() if other.kind == form.kind and other.matches(data)), None)
    if actual is not None:
        raise _Refused(f"is not a {form.label} by its content: it is a {FORMATS[actual].label}; name it .{actual}")
    raise _Refused(f"is not a {form.label} by its content (it starts with {data[:8]!r}); save it as a real one")


def packaged_name(path: str, digest: str) -> str:
    """``<stem>-<hash>.<ext>``: the file's own name made safe, and the start (:data:`HASH_BITS`) of *digest*.

    *digest* is the hex SHA-256 of the file's bytes.

    The stem keeps ASCII letters, digits, ``-`` and ``_`` (at most
    :data:`MAX_STEM` of them); the extension is lowercased.
    """
    stem, extension = posixpath.splitext(posixpath.basename(path))
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", ascii_stem).strip("-")[:MAX_STEM].strip("-") or "media"
    return f"{safe}-{digest[: HASH_BITS // 4]}{extension.lower()}"

"""A build's large outputs kept in files till the commit writes them, not in memory.

A 50,000-note build makes megabytes of package bytes in its worker processes
and a memo of megabytes before it forks them: held in memory, the parent
carries them till the commit and every worker forked after inherits them.
Kept in a private temporary folder instead, each is read back a chunk at a
time as the commit writes it (see :func:`generator.pipeline.journal.commit`).

The spool only saves memory: where its folder cannot be made or a file
cannot be written there (no temporary space), the bytes stay in memory and
the build goes on as before.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Spooled:
    """Bytes kept in a spool file: iterated, they are read back a chunk at a time."""

    path: str
    size: int

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                yield chunk


class Spool:
    """A private temporary folder for one build's outputs; removed, with what it holds, when the build ends.

    Made before worker processes are forked: they write their files into it
    under names of their own.
    """

    def __init__(self) -> None:
        try:
            self.folder: str | None = tempfile.mkdtemp(prefix="deckgen-spool-")
        except OSError:
            self.folder = None

    def keep(self, name: str, data: bytes | Sequence[bytes]) -> Spooled | bytes | Sequence[bytes]:
        """*data* (bytes, or its pieces in order) as the spool's file *name*, or as it is if it cannot be written."""
        if self.folder is None:
            return data
        path = os.path.join(self.folder, name)
        try:
            with open(path, "xb") as handle:
                handle.writelines((data,) if isinstance(data, bytes) else data)
                return Spooled(path, handle.tell())
        except OSError:
            with contextlib.suppress(OSError):
                os.remove(path)
            return data

    def close(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> Spool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

"""Topic files parsed ahead, side by side: a large source's first read is parallel too.

A build reads its source through the memo of validated topics the last build
kept (:class:`~generator.pipeline.memo.StoredMemo`): a file whose bytes it knows
is not parsed again.  Before that load, the topic files the memo does not know
are parsed here in worker processes, forked as the topics' builds are, each
into the memo as the pickle it keeps; the load then finds every one of them in
the memo, runs the checks across files as always, and the memo written after
the build is not pickled again.  A file with a problem is left to the load,
which says what is wrong; a source too small to pay for the workers is read
as it was, by the load alone.
"""

from __future__ import annotations

import functools
import os

from generator.pipeline.memo import StoredMemo
from generator.pipeline.topics import fork_pool, forked, working
from generator.source.folder import CONFIG_FILE, MAX_FILE_BYTES, SETTINGS_FILES, input_files
from generator.source.guarded import read_regular
from generator.source.loader import memo_key, read_one_topic

PARSE_AHEAD_MIN_BYTES = 1024 * 1024
"""Below this many bytes of topic files to parse, worker processes cost more than they save."""
PARSE_ONE_AHEAD_MIN_BYTES = 64 * 1024
"""Below this many bytes, one topic file (an edit's) is parsed by the load, not in a child forked for it while
the load reads the other topics out of the memo (a fork and the topic's way back cost a few milliseconds)."""


def parse_ahead(directory: str, memo: StoredMemo, jobs: int) -> None:
    """Parse the topic files of *directory* that *memo* does not know, in *jobs* processes, into *memo*."""
    if jobs < 2:
        return
    settings = read_regular(os.path.join(directory, CONFIG_FILE), MAX_FILE_BYTES)
    if not isinstance(settings, bytes):
        return  # the load says why
    unknown, known, size = [], [], 0
    for path in input_files(directory):
        if os.path.basename(path) in SETTINGS_FILES:
            continue
        data = read_regular(path, MAX_FILE_BYTES)
        if not isinstance(data, bytes):
            continue
        key = memo_key(settings, data)
        if (os.path.basename(path), key) in memo.raw:
            known.append((path, key))
        else:
            unknown.append(path)
            size += len(data)
    if len(unknown) == 1 and known and size >= PARSE_ONE_AHEAD_MIN_BYTES:
        _parse_one_ahead(directory, unknown[0], memo, known)
        return
    pool = fork_pool(jobs) if len(unknown) > 1 and size >= PARSE_AHEAD_MIN_BYTES else None
    if pool is None:
        return
    with working(pool):
        for found in pool.map(_parse, [directory] * len(unknown), unknown):
            if found is not None:
                name, key, raw = found
                memo.raw[name, key] = raw


def _parse_one_ahead(directory: str, path: str, memo: StoredMemo, known: list[tuple[str, str]]) -> None:
    """Parse the topic file *path* (an edit's) in a child process while this one reads the topics *memo* knows
    (*known*, by path and memo key) out of it, as the load would read them next, one after the other."""
    with forked(functools.partial(_parse, directory, path)) as child:
        if child is None:
            return
        for known_path, key in known:
            memo.recall_ahead(known_path, key)
        found = child.result()
    if isinstance(found, tuple) and len(found) == 3 and all(isinstance(part, str) for part in found[:2]):
        name, key, raw = found
        if isinstance(raw, bytes):
            memo.raw[name, key] = raw


def _parse(directory: str, path: str) -> tuple[str, str, bytes] | None:
    """In a worker: the memo's entry for one topic file (name, key, pickle), or None if the load must say why."""
    read: dict[str, bytes] = {}
    found = read_one_topic(directory, path, read)
    if found is None:
        return None
    key = memo_key(read[os.path.join(directory, CONFIG_FILE)], read[path])
    kept = StoredMemo()
    kept.add(path, key, found)
    ((name, _), raw), = kept.raw.items()
    return name, key, raw

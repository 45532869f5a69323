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

import os

from generator.pipeline.memo import StoredMemo
from generator.pipeline.topics import fork_pool, working
from generator.source.folder import CONFIG_FILE, MAX_FILE_BYTES, SETTINGS_FILES, input_files
from generator.source.guarded import read_regular
from generator.source.loader import memo_key, read_one_topic

PARSE_AHEAD_MIN_BYTES = 1024 * 1024
"""Below this many bytes of topic files to parse, worker processes cost more than they save."""


def parse_ahead(directory: str, memo: StoredMemo, jobs: int) -> None:
    """Parse the topic files of *directory* that *memo* does not know, in *jobs* processes, into *memo*."""
    if jobs < 2:
        return
    settings = read_regular(os.path.join(directory, CONFIG_FILE), MAX_FILE_BYTES)
    if not isinstance(settings, bytes):
        return  # the load says why
    unknown, size = [], 0
    for path in input_files(directory):
        if os.path.basename(path) in SETTINGS_FILES:
            continue
        data = read_regular(path, MAX_FILE_BYTES)
        if isinstance(data, bytes) and (os.path.basename(path), memo_key(settings, data)) not in memo.raw:
            unknown.append(path)
            size += len(data)
    pool = fork_pool(jobs) if len(unknown) > 1 and size >= PARSE_AHEAD_MIN_BYTES else None
    if pool is None:
        return
    with working(pool):
        for found in pool.map(_parse, [directory] * len(unknown), unknown):
            if found is not None:
                name, key, raw = found
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

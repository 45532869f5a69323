"""Where the lock's lines are, as the build that wrote it leaves them: the next build reads them, and only if they
are of that very lock; what it builds is the same either way."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from generator.pipeline.cache import code_digest
from generator.pipeline.config import BuildConfig
from generator.pipeline.lock import lines, places
from generator.pipeline.lock.model import REMOVED_RETENTION_SECONDS
from generator.pipeline.lock.places import PLACES_NAME, LinePlaces, read_places
from generator.pipeline.pipeline import build

from .support import T1, T2, V1, write_source

RITUAL = """  - id: ritual
    perspective: tea
    title: Ritual
    explanation: Tea ceremonies are {{formal}}.
"""
MORE = V1.replace("basics", "more").replace("Basics", "More").replace("id: ", "id: m-")
ONE_DAY = T2 - T1


@pytest.fixture(autouse=True)
def every_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sources here are small: their places are left all the same."""
    monkeypatch.setattr(places, "PLACES_MIN_LINES", 1)


def _found(lock: Path) -> LinePlaces:
    """The places of *lock*'s lines as a build finds them in its bytes."""
    data = lock.read_bytes()
    found = lines._places(data, data.index(lines._NOTES) + len(lines._NOTES))
    assert found is not None
    return found


def _left(out: Path) -> LinePlaces:
    left = read_places((out / PLACES_NAME).read_bytes(), code_digest())
    assert left is not None
    return left


def _as_lines(found: LinePlaces) -> list[tuple[str, int, int, str]]:
    return [
        (key, start, end, found.topic_names[topic])
        for key, start, end, topic in zip(found.keys, found.starts, found.ends, found.topic_of, strict=True)
    ]


def _edits() -> list[tuple[str, dict[str, str], bool]]:
    """Each build's files, and whether it is a release: one built anew, one edited, one with an item gone (a
    tombstone), one whose item moved to another topic, and a release."""
    edited = V1.replace("Pour {{hot water}}", "Pour {{hot}} water")
    gone = edited.replace("""  - id: storage
    perspective: coffee
    title: Storage
    explanation: Keep beans in an {{airtight}} jar.
""", "")
    moved = gone.replace(RITUAL, "")
    more = MORE.replace("comparisons:", RITUAL + "comparisons:")
    return [
        ("first", {"basics.yaml": V1, "more.yaml": MORE}, False),
        ("edited", {"basics.yaml": edited, "more.yaml": MORE}, False),
        ("gone", {"basics.yaml": gone, "more.yaml": MORE}, False),
        ("moved", {"basics.yaml": moved, "more.yaml": more}, False),
        ("released", {"basics.yaml": moved, "more.yaml": more}, True),
        ("removed", {"basics.yaml": moved, "more.yaml": more.replace(RITUAL, "")}, False),  # a tombstone
        ("new", {"basics.yaml": moved.replace("Pour {{hot}} water", "Pour {{hot}} {{water}}"), "more.yaml": more}, False),
    ]


def test_the_places_a_build_leaves_are_where_its_lock_has_its_lines(tmp_path):
    source, out = tmp_path / "src", tmp_path / "out"
    for day, (_, files, release) in enumerate(_edits()):
        write_source(source, files["basics.yaml"], extra={"more.yaml": files["more.yaml"]})
        build(BuildConfig(str(source), str(out), timestamp=T1 + day * ONE_DAY, release=release))
        lock = source / "deckgen.lock"
        left = _left(out)
        assert left.lock_sha256 == hashlib.sha256(lock.read_bytes()).hexdigest()
        assert _as_lines(left) == _as_lines(_found(lock))
        # What the next build takes from them instead of counting it in the lock's bytes.
        data = lock.read_bytes()
        assert left.tombstones is (data.count(b'"removed": null') != len(left.keys))
        assert left.unreleased == data.count(b'"released": false, "removed": null')


def test_a_rebuild_reads_the_places_of_its_lock_and_builds_what_a_rebuild_that_finds_them_builds(tmp_path, monkeypatch):
    found: list[int] = []
    finding = lines._places
    monkeypatch.setattr(lines, "_places", lambda data, first: found.append(first) or finding(data, first))
    steps = _edits()
    for name in ("read", "found"):
        source, out = tmp_path / name / "src", tmp_path / name / "out"
        for day, (step, files, release) in enumerate(steps):
            write_source(source, files["basics.yaml"], extra={"more.yaml": files["more.yaml"]})
            if name == "found" and (out / PLACES_NAME).exists():
                (out / PLACES_NAME).unlink()
            found.clear()
            build(BuildConfig(str(source), str(out), timestamp=T1 + day * ONE_DAY, release=release))
            assert bool(found) is (name == "found" and step != "first"), (name, step)  # the first reads no lock
    assert (tmp_path / "read" / "src" / "deckgen.lock").read_bytes() == (
        tmp_path / "found" / "src" / "deckgen.lock"
    ).read_bytes()
    for package in ("basics.apkg", "more.apkg"):
        assert (tmp_path / "read" / "out" / package).read_bytes() == (tmp_path / "found" / "out" / package).read_bytes()


def _sealed(data: bytes) -> bytes:
    """*data* (the file less its digest) with its digest, as the build writes it."""
    return data + hashlib.sha256(data).hexdigest().encode()


def _first_start_moved(data: bytes) -> bytes:
    """The first line's start one byte off, the file sealed again: places that do not fit the lock."""
    body = data.index(b"\n", len(b"deckgen lock lines 1\n")) + 1
    return _sealed(data[:body] + bytes([data[body] ^ 1]) + data[body + 1 : -64])


def _a_line_longer(data: bytes) -> bytes:
    """A line in the middle one byte longer or shorter (its end moved), the first and last where they were, the
    file sealed again."""
    magic = len(b"deckgen lock lines 1\n")
    body = data.index(b"\n", magic) + 1
    count = json.loads(data[magic:body])["lines"]
    at = body + 8 * count + 8 * (count // 2)  # the ends come after the starts, each eight bytes
    return _sealed(data[:at] + bytes([data[at] ^ 1]) + data[at + 1 : -64])


def _flipped(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :]


@pytest.mark.parametrize("spoil", [
    pytest.param(lambda data: _sealed(data[:-64].replace(b'"lock_sha256": "', b'"lock_sha256": "0', 1)),
                 id="another lock's"),
    pytest.param(lambda data: _sealed(data[:-64].replace(b'"code": "', b'"code": "0', 1)), id="other code's"),
    pytest.param(_first_start_moved, id="not where the lock's lines are"),
    pytest.param(_a_line_longer, id="lines that do not add up"),
    pytest.param(_flipped, id="damaged"),
    pytest.param(lambda data: data[:-3], id="cut short"),
    pytest.param(lambda data: b"", id="empty"),
    pytest.param(lambda data: b"\xff" * 100, id="not ours"),
])
def test_places_that_are_not_of_the_lock_as_it_is_are_passed_over(tmp_path, monkeypatch, spoil):
    source, out = tmp_path / "src", tmp_path / "out"
    steps = _edits()[:2]
    write_source(source, V1, extra={"more.yaml": MORE})
    build(BuildConfig(str(source), str(out), timestamp=T1))
    shutil.copytree(source, tmp_path / "fresh")
    shutil.copytree(out, tmp_path / "fresh-out")
    (out / PLACES_NAME).write_bytes(spoil((out / PLACES_NAME).read_bytes()))
    (tmp_path / "fresh-out" / PLACES_NAME).unlink()
    found: list[int] = []
    finding = lines._places
    monkeypatch.setattr(lines, "_places", lambda data, first: found.append(first) or finding(data, first))
    for folder, out_folder in ((source, out), (tmp_path / "fresh", tmp_path / "fresh-out")):
        write_source(folder, steps[1][1]["basics.yaml"], extra={"more.yaml": MORE})
        build(BuildConfig(str(folder), str(out_folder), timestamp=T2))
    assert len(found) == 2  # both found the lines in the lock
    assert (source / "deckgen.lock").read_bytes() == (tmp_path / "fresh" / "deckgen.lock").read_bytes()
    assert (out / "basics.apkg").read_bytes() == (tmp_path / "fresh-out" / "basics.apkg").read_bytes()
    assert _as_lines(_left(out)) == _as_lines(_found(source / "deckgen.lock"))  # and left them right again


def test_a_small_lock_leaves_no_places(tmp_path, monkeypatch):
    monkeypatch.setattr(places, "PLACES_MIN_LINES", 1000)
    source, out = write_source(tmp_path / "src", V1), tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    assert not (out / PLACES_NAME).exists()


def _interleaved(edit: str = "") -> dict[str, str]:
    """Two topics whose items' keys alternate in the lock (i01 in one, i02 in the other, ...): a lock of one rebuilt
    topic's lines between many runs of the other's, kept as they were."""
    files = {}
    for topic, first in (("odd", 1), ("even", 2)):
        items = "".join(
            f"  - id: i{number:02}\n    title: Item {number}\n    explanation: The {{{{term {number}{edit}}}}} is here.\n"
            for number in range(first, 25, 2)
        )
        files[f"{topic}.yaml"] = f"topic: {topic}\nname: {topic.title()}\nitems:\n{items}"
    return files


def test_a_rebuild_among_interleaved_topics_moves_each_kept_run_to_its_place(tmp_path, monkeypatch):
    source, out = tmp_path / "src", tmp_path / "out"
    config = "id: drinks\ntitle: Drinks\ndeck: Drinks\n"
    runs: list[tuple[int, int]] = []
    moving = places._moved
    monkeypatch.setattr(places, "_moved", lambda run, *rest: runs.append(run) or moving(run, *rest))
    found: list[int] = []
    finding = lines._places
    monkeypatch.setattr(lines, "_places", lambda data, first: found.append(first) or finding(data, first))
    for day, (odd, even) in enumerate([("", ""), (" x", ""), (" x", " y"), ("", " y")]):
        files = {"odd.yaml": _interleaved(odd)["odd.yaml"], "even.yaml": _interleaved(even)["even.yaml"]}
        write_source(source, files["odd.yaml"], config, extra=files)
        (source / "basics.yaml").unlink()
        runs.clear()
        build(BuildConfig(str(source), str(out), timestamp=T1 + day * ONE_DAY))
        assert _as_lines(_left(out)) == _as_lines(_found(source / "deckgen.lock"))
        assert day == 0 or len(runs) >= 10, runs  # the reused topic's lines, one run between each two rebuilt
    found.clear()
    write_source(source, _interleaved()["odd.yaml"], config, extra=_interleaved())
    (source / "basics.yaml").unlink()
    build(BuildConfig(str(source), str(out), timestamp=T1 + 9 * ONE_DAY))
    assert found == []  # the build read the places the last one left: none of the lines had to be found


def test_a_topic_gone_leaves_no_name_in_the_places(tmp_path):
    source, out = tmp_path / "src", tmp_path / "out"
    write_source(source, V1, extra={"more.yaml": MORE})
    build(BuildConfig(str(source), str(out), timestamp=T1, release=True))  # released: removed, they leave tombstones
    (source / "more.yaml").unlink()
    build(BuildConfig(str(source), str(out), timestamp=T2))
    assert set(_left(out).topic_names) == {"basics", "more"}  # its tombstones are filed under it
    # Past their retention the tombstones go; the other topic is reused, its lines kept as the lock read has them.
    build(BuildConfig(str(source), str(out), timestamp=T2 + REMOVED_RETENTION_SECONDS + 1))
    left = _left(out)
    assert _as_lines(left) == _as_lines(_found(source / "deckgen.lock"))
    assert set(left.topic_names) == {left.topic_names[topic] for topic in left.topic_of} == {"basics"}


def test_a_folder_where_the_places_go_is_left_and_the_lines_are_found(tmp_path):
    source, out = tmp_path / "src", tmp_path / "out"
    write_source(source, V1, extra={"more.yaml": MORE})
    (out / PLACES_NAME).mkdir(parents=True)
    build(BuildConfig(str(source), str(out), timestamp=T1))
    (source / "basics.yaml").write_text(V1.replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    report = build(BuildConfig(str(source), str(out), timestamp=T2))
    assert report.total("updated") == 1 and (out / PLACES_NAME).is_dir()

#!/usr/bin/env python3
"""deckgen performance benchmark: whole processes, timed with /usr/bin/time -v.

For each size N it writes a synthetic source of N notes (``deckgen.yaml`` and
``--files`` topic files) and, beside it, a bare genanki script holding the
same content as Python lists: what a user would write by hand instead of
deckgen.  It then runs, as separate processes, side by side in each round:

* ``full``      ``deckgen build`` with no lock and a fresh out folder
* ``genanki``   the bare genanki script (same notes, same fields, one package per topic)
* ``no-change`` ``deckgen build`` again: lock present, sources unchanged
* ``edit-one``  ``deckgen build`` after editing one item in one of the topic files
* ``genanki-one`` the bare genanki script making only the edited topic's package: no target
                of its own, an estimate of the floor under an edit rebuild (a process that
                starts, imports genanki and writes that one package)

and, once per run, ``essay`` (``deckgen build`` of the repository's
``cards_source/``, copied to a temporary folder so the repository's lock is
never touched) and ``help`` (``deckgen --help``).

Every run is ``/usr/bin/time -v CMD``; its wall clock (also measured with
``perf_counter`` around the process, which has better resolution) and its
maximum resident set size are recorded; the table shows medians.

Standard library only.  Usage::

    python benchmarks/bench.py [--sizes 1000,10000,50000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TIME = "/usr/bin/time"

SOURCE_ID = "bench"
SOURCE_TITLE = "Synthetic Benchmark Source"
ROOT_DECK = "Bench"
POINTS_PER_ITEM = 3  # one title note + one note per point: 4 notes per item

# Targets (medians, one run, side by side): issue 10's.
FULL_VS_GENANKI = 1.0
NO_CHANGE_VS_FULL = 0.05
EDIT_ONE_VS_FULL = 0.10
ESSAY_SECONDS = 0.2
HELP_SECONDS = 0.10
RSS_VS_GENANKI = 2.0
TARGET_SIZE = 50_000  # the size the build-time target is stated for
WATCH_SIZE = 5_000  # the clean source whose saves `watch` rebuilds

WORDS = (
    "culture society person family group harmony freedom choice duty honour "
    "identity community tradition progress value belief norm role status "
    "achievement relation trust conflict balance wisdom custom practice idea "
    "self other care respect growth learning memory habit virtue reason"
).split()


# --------------------------------------------------------------------------
# Synthetic content


@dataclass
class Item:
    id: str
    title: str
    explanation: str
    points: list[tuple[str, str]]
    clean: bool = False
    """Written with its key terms marked (a clean source); else the title and each point's words are marked."""


@dataclass
class Topic:
    id: str
    name: str
    heading: str
    items: list[Item] = field(default_factory=list)


def _words(seed: int, count: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 13 + i * i) % len(WORDS)] for i in range(count))


_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"
_SYLLABLES = [c + v for c in _CONSONANTS for v in _VOWELS]


def _pseudo_word(number: int) -> str:
    """A made-up word of three syllables, a different one for each *number* below 70**3 (343,000)."""
    size = len(_SYLLABLES)
    number = number * 7919 % size**3  # neighbours do not look alike (7919 is prime to 70**3)
    return _SYLLABLES[number // size**2] + _SYLLABLES[number // size % size] + _SYLLABLES[number % size]


def _clean_item(index: int, size: int) -> Item:
    """An item whose cards do not smell, as a real source's do not: its words are its own (a vocabulary
    that never repeats), each card hides one key term, and no front shows another card's answer."""
    counter = iter(range(index * 16, index * 16 + 16))
    word = lambda: _pseudo_word(next(counter))  # noqa: E731
    points = [(f"p{p}", f"Point {p}: {{{{{word()}}}}} {word()} {word()}") for p in range(1, size)]
    return Item(
        id=f"item-{index:06d}",
        title=f"Item {index} on {word()}",
        explanation=f"Explanation of item {index}, which says that {{{{{word()}}}}} leads to {word()} {word()}.",
        points=points,
        clean=True,
    )


def make_content(notes: int, files: int, clean: bool = False) -> list[Topic]:
    """Topics whose items make exactly *notes* notes (4 per item, the last item may be smaller).

    The default source smells on every card (a vocabulary of 34 words, fronts of
    47 words, answers on other fronts: 112,505 warnings at 50k notes); a *clean*
    one makes notes of its explanation's key term and its points, and none smells.
    """
    per_item = 1 + POINTS_PER_ITEM
    sizes = [per_item] * (notes // per_item)
    if notes % per_item:
        sizes.append(notes % per_item)
    files = max(1, min(files, len(sizes)))
    topics = [
        Topic(f"topic-{t:02d}", f"Topic {t:02d}", f"Heading of topic {t:02d} & friends")
        for t in range(1, files + 1)
    ]
    for index, size in enumerate(sizes):
        if clean:  # the explanation's key term, then (size - 1) points
            topics[index * files // len(sizes)].items.append(_clean_item(index, size))
            continue
        # size 1: title + explanation only; size k > 1: title + (k - 1) points.
        points = [(f"p{p}", f"Point {p} of item {index}: {_words(index + p, 5)}") for p in range(1, size)]
        item = Item(
            id=f"item-{index:06d}",
            title=f"Item {index} about {_words(index, 3)}",
            explanation=(
                f"Explanation of item {index}. It says that {_words(index, 12)} & "
                f"that {_words(index + 1, 14)}. The list below gives the details."
            ),
            points=points,
        )
        topics[index * files // len(sizes)].items.append(item)
    return topics


def edited_topic(topics: list[Topic]) -> Topic:
    """The topic the edit-one scenario edits (compare.py's and phases.py's edits too): the middle one."""
    return topics[len(topics) // 2]


def _yaml_scalar(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def marked(item: Item) -> tuple[str, str, list[tuple[str, str]]]:
    """The item's title, explanation and points as the source writes them, key terms marked ``{{…}}``.

    A smelly item asks its whole title and each point's words after its
    label; a clean one marks its own key terms already.
    """
    if item.clean:
        return item.title, item.explanation, list(item.points)
    points = []
    for key, text in item.points:
        label, _, words = text.partition(": ")
        points.append((key, label + ": {{" + words + "}}"))
    return "{{" + item.title + "}}", item.explanation, points


def topic_yaml(topic: Topic, edited: bool = False) -> str:
    lines = [
        f"topic: {topic.id}",
        f"name: {topic.name}",
        f"heading: {_yaml_scalar(topic.heading)}",
        "items:",
    ]
    for number, item in enumerate(topic.items):
        title, explanation, points = marked(item)
        if edited and number == 0:
            explanation = "EDITED. " + explanation
        lines += [
            f"  - id: {item.id}",
            f"    title: {_yaml_scalar(title)}",
            "    explanation: >-",
            f"      {explanation}",
        ]
        if points:
            lines.append("    points:")
            lines += [f"      {key}: {_yaml_scalar(text)}" for key, text in points]
    return "\n".join(lines) + "\n"


def write_source(folder: Path, topics: list[Topic], clean: bool = False) -> dict[str, str]:
    """Write the deckgen source; return {file name: text} of the topic files."""
    folder.mkdir(parents=True)
    (folder / "deckgen.yaml").write_text(
        f"id: {SOURCE_ID}\n"
        f"title: {_yaml_scalar(SOURCE_TITLE)}\n"
        f"deck: {ROOT_DECK}\n"
        + ("" if clean else "perspectives:\n  one: One\n  two: Two\n"),  # two perspectives no item has: 2 smells
        encoding="utf-8",
    )
    texts = {}
    for topic in topics:
        name = f"{topic.id}.yaml"
        texts[name] = topic_yaml(topic)
        (folder / name).write_text(texts[name], encoding="utf-8")
    return texts


BASELINE_SCRIPT = r'''"""A bare genanki script: the same notes as the benchmark source, by hand, no YAML."""
import html
import os
import sys

import genanki

{data}

MODEL = genanki.Model(
    1607392319,
    "Bench Cloze",
    fields=[{"name": "Text"}, {"name": "Context"}, {"name": "Extra"}, {"name": "Source"}],
    templates=[{
        "name": "Cloze",
        "qfmt": '<div class="context">{{Context}}</div>{{cloze:Text}}<div class="source">{{Source}}</div>',
        "afmt": '<div class="context">{{Context}}</div>{{cloze:Text}}<div class="extra">{{Extra}}</div>'
                '<div class="source">{{Source}}</div>',
    }],
    css=".card { font-family: sans-serif; font-size: 20px; }",
    model_type=genanki.Model.CLOZE,
)


def text(value):
    return html.escape(value, quote=False).replace("{", "&#123;").replace("}", "&#125;")


def plain(value):
    """The value as a reader sees it: its key-term marks removed."""
    return text(value.replace("{{", "").replace("}}", ""))


def cloze(value):
    """The value with its marked key term hidden: what a note asks."""
    start = value.index("{{")
    end = value.index("}}", start)
    asked = text(value[start + 2 : end]).replace(":", "&#58;")
    return plain(value[:start]) + "{{c1::%s}}" % asked + plain(value[end + 2 :])


def item_notes(title, explanation, item_points):
    """(note key, Text, Extra) of each note of an item, as deckgen lays them out."""
    shown = [f"<li>{plain(value)}</li>" for _, value in item_points]

    def points(skip=None):
        rows = "".join(row for index, row in enumerate(shown) if index != skip)
        return f'<ul class="points">{rows}</ul>' if rows else ""

    heading = f'<div class="title">{plain(title)}</div>'
    body = f'<div class="body">{plain(explanation)}</div>'
    if title.startswith("{{") and title.endswith("}}"):  # the whole title asked, the explanation as its context
        yield "title", f'<div class="title">{cloze(title)}</div>{body}', points()
    sentences = explanation.split(". ")
    sentences = [s + "." for s in sentences[:-1]] + sentences[-1:]
    for number, sentence in enumerate(sentences):
        if "{{" in sentence:  # the sentence asked; the others and the points on the back
            rest = " ".join(s for s in sentences if s is not sentence)
            back = f'<div class="body">{plain(rest)}</div>' if rest else ""
            yield f"explanation/{number}", f'{heading}<div class="body">{cloze(sentence)}</div>', back + points()
    for index, (key, value) in enumerate(item_points):
        asked = f'<ul class="points"><li class="asked">{cloze(value)}</li></ul>'
        yield f"point/{key}", heading + asked, body + points(index)


def main(out):
    os.makedirs(out, exist_ok=True)
    source = text(SOURCE_TITLE)
    count = 0
    for topic_id, topic_name, heading, items in TOPICS:
        deck_name = f"{ROOT_DECK}::{topic_name}"
        deck = genanki.Deck(2059400110 + len(deck_name) * 1000 + int(topic_id[-2:]), deck_name)
        context = text(heading)
        tags = [f"{SOURCE_ID}::topic::{topic_id}", f"{SOURCE_ID}::kind::cloze"]
        for item_id, title, explanation, item_points in items:
            for key, front, back in item_notes(title, explanation, item_points):
                deck.add_note(genanki.Note(
                    model=MODEL, fields=[front, context, back, source], tags=tags,
                    guid=genanki.guid_for(SOURCE_ID, item_id, key),
                ))
                count += 1
        genanki.Package(deck).write_to_file(os.path.join(out, f"{topic_id}.apkg"))
    print(f"wrote {count} notes")


if __name__ == "__main__":
    main(sys.argv[1])
'''


def write_baseline(folder: Path, topics: list[Topic], inline: bool = False) -> Path:
    """The bare genanki script; its content as Python lists in ``baseline_data.py`` (imported,
    so byte-compiled once like any module) or, *inline*, in the script itself (compiled every run)."""
    folder.mkdir(parents=True)
    lines = [f"SOURCE_ID = {SOURCE_ID!r}", f"SOURCE_TITLE = {SOURCE_TITLE!r}", f"ROOT_DECK = {ROOT_DECK!r}"]
    lines.append("TOPICS = [")
    for topic in topics:
        lines.append(f"  ({topic.id!r}, {topic.name!r}, {topic.heading!r}, [")
        lines += [f"    {(item.id, *marked(item))!r}," for item in topic.items]
        lines.append("  ]),")
    lines.append("]")
    data = "\n".join(lines) + "\n"
    if inline:
        script_data = data
    else:
        (folder / "baseline_data.py").write_text(data, encoding="utf-8")
        script_data = "from baseline_data import SOURCE_ID, SOURCE_TITLE, ROOT_DECK, TOPICS"
    script = folder / "baseline.py"
    script.write_text(BASELINE_SCRIPT.replace("{data}", script_data, 1), encoding="utf-8")
    return script


# --------------------------------------------------------------------------
# Running and measuring


@dataclass
class Sample:
    wall: float  # perf_counter around the process
    time_wall: float  # /usr/bin/time's "Elapsed (wall clock)"
    rss_kb: int  # /usr/bin/time's "Maximum resident set size"
    cpu: float  # user + system seconds


@dataclass
class EditState:
    """Where the edit-one scenario works: the built state each rebuild starts from, and the edit it makes."""

    source: Path
    edited: Path
    edited_text: str
    base_out: Path
    base_lock: Path
    out: Path
    lock: Path
    one: Path
    """The genanki script for the edited topic alone."""
    one_out: Path

    def rebuild(self, bench: Bench) -> Sample:
        """One measured edit rebuild: the built state put back, the file edited, deckgen run."""
        copy_tree(self.base_out, self.out)
        shutil.copy(self.base_lock, self.lock)
        self.edited.write_text(self.edited_text, encoding="utf-8")
        return run(bench.build_cmd(self.source, self.out, self.lock), env=bench.env)


def _saver(files: list[Path], each_file: bool) -> Callable[[int], None]:
    """A save of round *n*: a comment added to the first of *files*; with *each_file*, a note of the next file edited."""
    edited, original = files[0], files[0].read_text(encoding="utf-8")

    def save(round_: int) -> None:
        if not each_file:
            edited.write_text(original + f"# save {round_}\n", encoding="utf-8")
            return
        path = files[round_ % len(files)]
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("Explanation of item", f"Explanation (save {round_}) of item", 1), "utf-8")

    return save


class _Watching:
    """A ``deckgen watch`` process being timed: the version its page polls, and the page."""

    def __init__(self, cmd: list[str], env: dict[str, str], errors: Path, url: str) -> None:
        self.errors, self.url = errors, url
        with errors.open("wb") as stderr:
            self.process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=stderr)

    def version(self) -> str | None:
        """The page's version; None while the server does not answer."""
        if self.process.poll() is not None:  # say why now, not after the wait's two minutes
            said = self.errors.read_text(encoding="utf-8", errors="replace").strip()
            raise WatchStopped(f"deckgen watch stopped (exit {self.process.returncode}): {said}")
        try:
            with urllib.request.urlopen(self.url + "/__deckgen/version", timeout=5) as response:
                return response.read().decode()
        except OSError:
            return None

    def page(self) -> None:
        with urllib.request.urlopen(self.url + "/", timeout=5) as response:
            response.read()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # started with Ctrl-C ignored (the script run with & or nohup)
            self.process.kill()
            self.process.wait()


class WatchStopped(RuntimeError):
    """The watch being timed exited (without the watch extra, say): the watch timings after it are not run."""


def _wait_for(poll, done, timeout: float):
    """Call *poll* every 5 ms until *done* says yes of its value; raise after *timeout* seconds."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        value = poll()
        if done(value):
            return value
        time.sleep(0.005)
    raise RuntimeError(f"gave up after {timeout} s")


def _elapsed(text: str) -> float:
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Sample:
    """Run *cmd* under ``/usr/bin/time -v``; raise with its output if it fails.

    Its output goes to a file, as a log's would, and is read only if it fails: a pipe read and decoded here
    timed this script along with deckgen (a smelly no-change rebuild prints 27 MB of warnings: 0.34 s
    captured as text, 0.27 s to a file), and the genanki script prints nothing.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report, tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        done = subprocess.run([TIME, "-v", "-o", report.name, *cmd], cwd=cwd, env=env, stdout=output, stderr=output)
        wall = time.perf_counter() - start
        stats = report.read()
        if done.returncode != 0:
            output.seek(0)
            printed = output.read().decode("utf-8", "replace")
            raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}\n{printed}\n{stats}")
    values = dict(
        (key.strip(), value.strip())
        for key, _, value in (line.rpartition(": ") for line in stats.splitlines())
        if key
    )
    return Sample(
        wall=wall,
        time_wall=_elapsed(values["Elapsed (wall clock) time (h:mm:ss or m:ss)"]),
        rss_kb=int(values["Maximum resident set size (kbytes)"]),
        cpu=float(values["User time (seconds)"]) + float(values["System time (seconds)"]),
    )


def count_notes(folder: Path) -> int:
    """Notes over every .apkg in *folder*."""
    return len(note_fields(folder))


def note_fields(folder: Path) -> list[tuple[str, str]]:
    """Every note's (fields, tags) over every .apkg in *folder*, sorted: to compare two builds' content."""
    rows = []
    for package in sorted(folder.glob("*.apkg")):
        with zipfile.ZipFile(package) as archive:
            data = archive.read("collection.anki2")
        with tempfile.NamedTemporaryFile(suffix=".anki2") as db:
            db.write(data)
            db.flush()
            connection = sqlite3.connect(db.name)
            rows += [(f, t.strip()) for f, t in connection.execute("SELECT flds, tags FROM notes")]
            connection.close()
    return sorted(rows)


def children_cpu() -> float:
    """The user and system CPU seconds of this process's children that have ended, as the system counts them."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def reset(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def copy_tree(source: Path, target: Path) -> None:
    reset(target)
    shutil.copytree(source, target)


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.deckgen = args.deckgen
        self.python = args.python
        self.env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
        if not args.no_pyc:
            # Run from byte-compiled modules, as an installed deckgen (and a user's script) does,
            # even where PYTHONDONTWRITEBYTECODE is set; the .pyc files go to the temp folder,
            # never into the repository.  The warm-up runs write them.
            self.env.pop("PYTHONDONTWRITEBYTECODE", None)
            self.env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        self.samples: dict[tuple[str, int | str], list[Sample]] = {}
        self.notes_checked: dict[str, str] = {}
        self.field_warnings: list[str] = []

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def record(self, scenario: str, n: int | str, sample: Sample) -> None:
        self.samples.setdefault((scenario, n), []).append(sample)
        self.log(
            f"  {scenario:<10} N={n!s:<12} {sample.wall:7.3f} s (time: {sample.time_wall:.2f} s), "
            f"{sample.rss_kb / 1024:7.1f} MB"
        )

    def build_cmd(self, source: Path, out: Path, lock: Path) -> list[str]:
        return [self.deckgen, "build", "--source", str(source), "--out", str(out), "--lock", str(lock), "-q"]

    def size(self, n: int, clean: bool = False) -> None:
        """The five scenarios at *n* notes, of the smelly source or a *clean* one (scenarios named "... clean")."""
        root = self.work / f"n{n}{'-clean' if clean else ''}"
        self.log(f"N={n}{' clean' if clean else ''}: generating the source and the genanki baseline in {root}")
        topics = make_content(n, self.args.files, clean)
        source = root / "source"
        write_source(source, topics, clean)
        label = f"{n} clean" if clean else str(n)  # the table's N column
        baseline = write_baseline(root / "baseline", topics, inline=self.args.baseline == "inline")
        self._check(source, n, label)
        base_out = root / "genanki_out"
        built_out, built_lock = self._warm_up(root, source, (baseline, base_out), n, label)
        edit = self._edit_state(root, source, edited_topic(topics))
        nc_out, nc_lock = root / "nochange_out", root / "nochange.lock"
        copy_tree(built_out, nc_out)
        shutil.copy(built_lock, nc_lock)
        full_out, full_lock = root / "full_out", root / "full.lock"

        for round_ in range(self.args.repeat):
            self.log(f" round {round_ + 1}/{self.args.repeat}")
            reset(full_out)
            reset(full_lock)
            self.record("full", label, run(self.build_cmd(source, full_out, full_lock), env=self.env))
            reset(base_out)
            self.record("genanki", label, self._script(baseline, base_out))
            self.record("no-change", label, run(self.build_cmd(source, nc_out, nc_lock), env=self.env))
            self.record("edit-one", label, edit.rebuild(self))
            reset(edit.one_out)
            self.record("genanki-one", label, self._script(edit.one, edit.one_out))

        if not self.args.keep:
            shutil.rmtree(root)

    def _script(self, script: Path, out: Path) -> Sample:
        """A run of a genanki script writing into *out*."""
        return run([self.python, str(script), str(out)], cwd=script.parent, env=self.env)

    def _check(self, source: Path, n: int, label: str) -> None:
        """``deckgen check`` of the source must count *n* notes, or the benchmark stops."""
        checked = subprocess.run(
            [self.deckgen, "check", "--source", str(source)], capture_output=True, text=True, env=self.env
        )
        match = re.search(r"-> (\d+) notes?", checked.stdout)
        if checked.returncode != 0 or not match or int(match.group(1)) != n:
            raise RuntimeError(f"deckgen check does not report {n} notes:\n{checked.stdout}{checked.stderr}")
        self.notes_checked[label] = checked.stdout.strip()

    def _warm_up(
        self, root: Path, source: Path, script: tuple[Path, Path], n: int, label: str
    ) -> tuple[Path, Path]:
        """Unmeasured runs of deckgen and the *script* (and its out folder): the built state (out folder, lock) the
        rebuilds start from.

        They byte-compile the baseline data and fill the page cache; both outputs must hold *n* notes.
        """
        built_out, built_lock = root / "built_out", root / "built.lock"
        run(self.build_cmd(source, built_out, built_lock), env=self.env)
        baseline, base_out = script
        self._script(baseline, base_out)
        deckgen_notes, genanki_notes = count_notes(built_out), count_notes(base_out)
        if deckgen_notes != n or genanki_notes != n:
            raise RuntimeError(f"expected {n} notes; deckgen wrote {deckgen_notes}, genanki {genanki_notes}")
        if note_fields(built_out) != note_fields(base_out):
            # The baseline mirrors deckgen's card layout (generator/notes.py) at the time of
            # writing; if that changes, the notes still match in number and size, not byte for byte.
            self.log("  warning: the genanki baseline's note fields differ from deckgen's "
                     "(has deckgen's card layout changed? see BASELINE_SCRIPT)")
            self.field_warnings.append(label)
        return built_out, built_lock

    def _edit_state(self, root: Path, source: Path, edited: Topic) -> EditState:
        """The edit-one scenario's own copy of the source, built there first (not measured), as a user
        edits the folder they build: a package's warnings name the files where they were built.
        Beside it, the genanki script for the edited topic alone, warmed up as the whole script is."""
        edit_source = root / "edit_source"
        copy_tree(source, edit_source)
        base_out, base_lock = root / "edit_base_out", root / "edit_base.lock"
        run(self.build_cmd(edit_source, base_out, base_lock), env=self.env)
        one = write_baseline(root / "baseline_one", [edited], inline=self.args.baseline == "inline")
        state = EditState(
            edit_source, edit_source / f"{edited.id}.yaml", topic_yaml(edited, edited=True), base_out, base_lock,
            root / "edit_out", root / "edit.lock", one, root / "genanki_one_out",
        )
        self._script(one, state.one_out)
        return state

    def once(self) -> None:
        essay = REPO / "cards_source"
        root = self.work / "essay"
        root.mkdir()
        copy = root / "cards_source"
        copy_tree(essay, copy)
        out = root / "out"
        lock = copy / "deckgen.lock"
        self.log("essay build and deckgen --help")
        run(self.build_cmd(copy, out, lock), env=self.env)  # warm-up
        essay_notes = count_notes(out)
        for _ in range(self.args.repeat):
            copy_tree(essay, copy)  # the repository's sources and lock, fresh each round
            reset(out)
            self.record("essay", essay_notes, run(self.build_cmd(copy, out, lock), env=self.env))
        run([self.deckgen, "--help"], env=self.env)  # warm-up
        for _ in range(self.args.repeat):
            self.record("help", 0, run([self.deckgen, "--help"], env=self.env))

    def watch(self, essay: Path | None, scenario: str, *, each_file: bool = False) -> None:
        """Save to reloaded page under ``deckgen watch``: from a file's write to the new page served.

        The watch serves the page and a version number the page polls (every
        250 ms in a browser); here the version is polled every 5 ms and the page
        fetched once it changes, so the figure is deckgen's part (the file
        watcher's debounce, the rebuild, the preview), not the browser's poll.
        *essay* is a source folder to copy; None: a clean source of WATCH_SIZE notes.
        Each save adds a comment to the first topic file; with *each_file*, each
        save edits a note of the next file instead (a session of edits: every
        topic edited before stays edited).
        """
        root = self.work / scenario.replace(" ", "-")
        source = root / "source"
        if essay is not None:
            copy_tree(essay, source)
        else:
            write_source(source, make_content(WATCH_SIZE, self.args.files, clean=True), clean=True)
        # A project that has been built (its lock written), as a contributor's checkout is.
        run(self.build_cmd(source, root / "out", source / "deckgen.lock"), env=self.env)
        save = _saver(sorted(p for p in source.glob("*.yaml") if p.name != "deckgen.yaml"), each_file)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        cmd = [self.deckgen, "watch", "--source", str(source), "--out", str(root / "out"), "--port", str(port)]
        self.log(f"{scenario}: {' '.join(cmd)}")
        watching = _Watching(cmd, self.env, root / "watch.err", f"http://127.0.0.1:{port}")
        try:
            shown = _wait_for(watching.version, lambda v: v is not None and not v.endswith("-1"), 120)
            for round_ in range(self.args.repeat + 1):  # the first round warms up
                time.sleep(0.5)  # the watcher settles between saves
                save(round_)
                start = time.perf_counter()
                shown = _wait_for(watching.version, lambda v, before=shown: v is not None and v != before, 120)
                watching.page()
                wall = time.perf_counter() - start
                if round_:
                    self.record(scenario, "save", Sample(wall=wall, time_wall=wall, rss_kb=0, cpu=0.0))
        finally:
            watching.stop()

    # ----------------------------------------------------------------------
    # Reporting

    def labels(self) -> list[str]:
        """The sizes measured, as the N column names them ("50000", "50000 clean"), in the order run."""
        return list(dict.fromkeys(n for scenario, n in self.samples if scenario == "full" and isinstance(n, str)))

    def median(self, scenario: str, n: int | str, what: str) -> float:
        return statistics.median(getattr(s, what) for s in self.samples[(scenario, n)])

    def table(self) -> str:
        """The markdown table of medians and ratios, then the list of targets and whether each is met."""
        table = _Table(self.median)
        for n in self.labels():
            self._size_rows(table, n)
        (essay_n,) = {n for scenario, n in self.samples if scenario == "essay"}
        essay = self.median("essay", essay_n, "wall")
        table.row("essay build (cards_source)", "essay", essay_n, f"{essay:.3f} s", f"<= {ESSAY_SECONDS} s",
                  essay <= ESSAY_SECONDS)
        helped = self.median("help", 0, "wall")
        table.row("deckgen --help", "help", 0, f"{helped:.3f} s", f"<= {HELP_SECONDS} s", helped <= HELP_SECONDS)
        for scenario, n in sorted(key for key in self.samples if key[0].startswith("watch")):
            reload = self.median(scenario, n, "wall")
            table.row(f"{scenario}: save to reloaded page", scenario, n, f"{reload:.3f} s")
        return table.text()

    def _size_rows(self, table: _Table, n: str) -> None:
        """The rows of one size: each scenario against its target."""
        full = self.median("full", n, "wall")
        base = self.median("genanki", n, "wall")
        base_rss = self.median("genanki", n, "rss_kb")
        stated = "" if n.split()[0] == str(TARGET_SIZE) else " (stated for 50k)"
        ratio = full / base
        table.row("full build", "full", n, f"{ratio:.2f}x genanki", f"<= {FULL_VS_GENANKI}x{stated}",
                  ratio <= FULL_VS_GENANKI, base_rss)
        table.row("genanki (bare script)", "genanki", n, "1.00x genanki", rss=base_rss, rss_check=False)
        ratio = self.median("no-change", n, "wall") / full
        table.row("no-change rebuild", "no-change", n, f"{ratio:.1%} of full", f"<= {NO_CHANGE_VS_FULL:.0%}",
                  ratio <= NO_CHANGE_VS_FULL, base_rss)
        ratio = self.median("edit-one", n, "wall") / full
        table.row("edit-one rebuild", "edit-one", n, f"{ratio:.1%} of full", f"<= {EDIT_ONE_VS_FULL:.0%}",
                  ratio <= EDIT_ONE_VS_FULL, base_rss)
        one = self.median("genanki-one", n, "wall")
        table.row("genanki, the edited topic alone", "genanki-one", n,
                  f"{one / full:.1%} of full ({one / base:.1%} of genanki's)")


class _Table:
    """The table's rows and the targets they were checked against, as they are added."""

    def __init__(self, median: Callable[[str, int | str, str], float]) -> None:
        self.median = median
        self.lines = [
            "| scenario | N | median s | /usr/bin/time s | cpu s | max RSS MB "
            "| time ratio | time target | met | RSS vs genanki | RSS target | met |",
            "|---|---:|---:|---:|---:|---:|---:|---|---|---:|---|---|",
        ]
        self.checks: list[tuple[str, bool]] = []

    def row(self, label, scenario, n, ratio="", target="", ok=None, rss=None, rss_check=True) -> None:
        m = lambda what: self.median(scenario, n, what)  # noqa: E731
        rss_ratio = rss_target = ""
        rss_ok = None
        if rss is not None:
            value = m("rss_kb") / rss
            rss_ratio = f"{value:.2f}x"
            if rss_check:
                rss_target, rss_ok = f"<= {RSS_VS_GENANKI}x", value <= RSS_VS_GENANKI
        self.lines.append(
            f"| {label} | {n} | {m('wall'):.3f} | {m('time_wall'):.2f} | {m('cpu'):.2f} | "
            f"{m('rss_kb') / 1024:.1f} | {ratio} | {target} | {_verdict(ok)} | "
            f"{rss_ratio} | {rss_target} | {_verdict(rss_ok)} |"
        )
        if ok is not None:
            self.checks.append((f"{label}, N={n}: time {ratio} {target}", ok))
        if rss_ok is not None:
            self.checks.append((f"{label}, N={n}: max RSS {rss_ratio} of genanki's, {rss_target}", rss_ok))

    def text(self) -> str:
        done = [f"Targets met: {sum(ok for _, ok in self.checks)}/{len(self.checks)}"]
        return "\n".join(self.lines + [""] + done + [f"- [{'x' if ok else ' '}] {label}" for label, ok in self.checks])


def _verdict(ok: bool | None) -> str:
    return "" if ok is None else ("yes" if ok else "**NO**")


def install(work: Path) -> Path:
    """deckgen as a user installs it (``pip install``, with the ``watch`` extra) in a new venv in *work*.

    Not the editable install a developer works in: its import hook looks up
    every module of the package on each start (about 0.1 s more for a build).
    """
    venv, copy = work / "venv", work / "deckgen-source"
    print(f"installing deckgen from {REPO} into {venv}", file=sys.stderr, flush=True)
    # From a copy of the working tree: pip builds in the folder it installs from, and what an earlier
    # build left there (build/lib) could end up in the measured wheel.
    skipped = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", "decks_out", "site")
    shutil.copytree(REPO, copy, ignore=skipped)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"{copy}[watch]"], check=True)
    return venv / "bin" / "deckgen"


def main() -> int:
    parser = _parser()
    args = _arguments(parser)
    work = Path(tempfile.mkdtemp(prefix="deckgen-bench-"))
    measured = "given with --deckgen" if args.deckgen else "pip install of this repository, new venv"
    if args.deckgen is None:
        try:
            args.deckgen = str(install(work))
        except subprocess.CalledProcessError:
            shutil.rmtree(work, ignore_errors=True)
            parser.error("could not install deckgen in a new venv; pass --deckgen")
    if args.python is None:
        first = Path(args.deckgen).read_text(errors="replace").splitlines()[0]
        args.python = first[2:].strip() if first.startswith("#!") and "python" in first else sys.executable

    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    bench = Bench(args, work)
    print(
        f"deckgen benchmark: sizes {args.sizes}, {args.repeat} runs each, {args.files} topic files; "
        f"deckgen {args.deckgen}; baseline python {args.python}; {os.cpu_count()} CPUs",
        file=sys.stderr,
    )
    try:
        watch_skipped = _measure(bench, args)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(
        f"deckgen benchmark: medians of {args.repeat} runs; {args.files} topic files; "
        f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}; deckgen: {measured}; "
        f"{'.pyc as the environment says' if args.no_pyc else 'byte-compiled (.pyc cache in the temp folder)'}; "
        f"baseline data: {args.baseline}; "
        f"load average before: {load_before}"
    )
    _report(bench, args, watch_skipped)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="note counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="measured runs per scenario (median)")
    parser.add_argument("--files", type=int, default=20, help="topic files per synthetic source")
    parser.add_argument(
        "--deckgen", default=None,
        help="the deckgen executable to measure [default: this repository installed as a user installs it, "
        "pip install '.[watch]' into a new venv in the temp folder; not the editable development install, "
        "whose import hook makes every start slower]",
    )
    parser.add_argument("--python", default=None, help="python with genanki for the baseline [default: deckgen's]")
    parser.add_argument(
        "--baseline", choices=("module", "inline"), default="module",
        help="where the genanki script keeps its Python lists: an imported module (byte-compiled once; "
        "the default) or the script itself (compiled on every run, which costs time and memory)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (printed)")
    parser.add_argument(
        "--no-pyc", action="store_true",
        help="leave PYTHONDONTWRITEBYTECODE / PYTHONPYCACHEPREFIX as they are [default: the measured "
        "processes write and use .pyc files in the temp folder]",
    )
    parser.add_argument("--json", metavar="FILE", help="also write every sample as JSON to FILE")
    parser.add_argument(
        "--sources", default="smelly,clean",
        help="synthetic sources per size, comma-separated: smelly (every card smells), clean (none does)",
    )
    parser.add_argument("--no-watch", action="store_true", help="skip the save-to-reloaded-page timings of `watch`")
    return parser


def _arguments(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """The command line, checked: what this machine lacks for it stops the benchmark before it starts."""
    args = parser.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    args.sources = [s.strip() for s in args.sources.split(",") if s.strip()]
    if not set(args.sources) <= {"smelly", "clean"}:
        parser.error("--sources takes smelly and/or clean")
    if not os.access(TIME, os.X_OK):
        parser.error(f"{TIME} is needed (Debian/Ubuntu: apt-get install time)")
    return args


def _measure(bench: Bench, args: argparse.Namespace) -> str:
    """Every scenario measured; why the watch timings stopped early, if they did."""
    for n in args.sizes:
        for kind in args.sources:
            bench.size(n, clean=kind == "clean")
    bench.once()
    if args.no_watch:
        return ""
    try:
        bench.watch(REPO / "cards_source", "watch essay")
        bench.watch(None, f"watch {WATCH_SIZE} clean")
        bench.watch(None, f"watch {WATCH_SIZE} clean, each save another file", each_file=True)
    except WatchStopped as stopped:  # the builds' samples are still worth their table
        bench.log(str(stopped))
        return str(stopped)
    return ""


def _report(bench: Bench, args: argparse.Namespace, watch_skipped: str) -> None:
    """The table, what each source's check said, and (``--json``) every sample."""
    print()
    print(bench.table())
    print(f"Load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other processes compete on a shared machine)")
    if watch_skipped:
        print(f"Watch timings stopped early: {watch_skipped}")
    print()
    for n, line in bench.notes_checked.items():  # noqa: B007
        same = "differ from" if n in bench.field_warnings else "are identical to"
        print(f"N={n}: `deckgen check`: {line}; the baseline's note fields and tags {same} deckgen's")
    if args.json:
        data = {f"{scenario}@{n}": [s.__dict__ for s in samples] for (scenario, n), samples in bench.samples.items()}
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())

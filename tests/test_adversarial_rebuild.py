"""A rebuild that reuses topics writes what a build from scratch of the same source and lock writes.

Each test builds, edits, rebuilds into the same output folder (the per-topic
reuse and the no-change cache at work), then builds the edited source again
into a fresh folder from the lock the rebuild read, and compares the
packages, the lock and the warnings.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.errors import FileWarnings
from generator.pipeline.cachefile import read_cache
from generator.pipeline.config import BuildConfig
from generator.pipeline.lock.times import Changes
from generator.pipeline.pipeline import BuildReport, build

from .support import DRINKS_CONFIG, T1, T2

SMELLY = Path(__file__).resolve().parent / "sources" / "smelly"

ALPHA = """\
topic: alpha
name: Alpha
items:
  - id: calm
    perspective: tea
    title: Calm focus
    explanation: Tea contains {{green leaf extract}}, which calms.
"""
BETA = """\
topic: beta
name: Beta
items:
  - id: extract
    perspective: coffee
    title: Green leaf extract
    explanation: Coffee has {{crema}} on top.
"""
GAMMA = """\
topic: gamma
name: Gamma
items:
  - id: other
    perspective: coffee
    title: Something else
    explanation: Coffee is {{roasted}} first.
"""
# A "which drink?" card whose cue shares "garden" with a title of tea's (beta's) and with nothing said of coffee.
SETTING_ALPHA = """\
topic: alpha
name: Alpha
question: Which drink is this?
items:
  - id: calm
    perspective: tea
    title: Quiet garden mornings
    explanation: Tea is brewed {{slowly}}.
"""
SETTING_BETA = """\
topic: beta
name: Beta
items:
  - id: ceremony
    perspective: tea
    title: Garden ceremony
    explanation: Tea {{rituals}} exist.
"""


def _source(folder: Path, files: dict[str, str], config: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "deckgen.yaml").write_text(config, encoding="utf-8")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _outcome(report: BuildReport, out: Path, lock: Path) -> tuple[dict[str, bytes], bytes, list[str]]:
    packages = {path.name: path.read_bytes() for path in sorted(out.glob("*.apkg"))}
    warnings = [f"{w.file}:{w.line}: {w.where}: {w.message}" for w in report.warnings]
    return packages, lock.read_bytes(), warnings


def _rebuild_and_scratch(
    tmp_path: Path, files: dict[str, str], edit: Callable[[Path], Path], config: str = DRINKS_CONFIG
) -> tuple[tuple[dict[str, bytes], bytes, list[str]], tuple[dict[str, bytes], bytes, list[str]]]:
    """Build *files*, apply *edit* (it gives the source folder to build next), rebuild into the same output
    folder; and build the edited source into a fresh folder from the lock the rebuild read."""
    source = _source(tmp_path / "src", files, config)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    return _again_and_scratch(edit(source), out, tmp_path / "fresh", T2)


def _again_and_scratch(
    edited: Path, out: Path, fresh: Path, when: int
) -> tuple[tuple[dict[str, bytes], bytes, list[str]], tuple[dict[str, bytes], bytes, list[str]]]:
    """Rebuild *edited* into *out* at *when*; build it into *fresh* from the lock that rebuild read.

    The lock is left as the rebuild wrote it: the next edit's rebuild reads it, as an author's would.
    """
    lock = edited / "deckgen.lock"
    before = lock.read_bytes()
    again = _outcome(build(BuildConfig(str(edited), str(out), timestamp=when)), out, lock)
    after = lock.read_bytes()
    lock.write_bytes(before)
    scratch = _outcome(build(BuildConfig(str(edited), str(fresh), timestamp=when)), fresh, lock)
    lock.write_bytes(after)
    return again, scratch


def test_a_reused_topic_names_another_topics_title_where_it_is_now(tmp_path):
    # alpha's card is answered by beta's title; two lines are added above it: alpha's file is unchanged.
    def edit(source: Path) -> Path:
        (source / "b.yaml").write_text("# a comment\n\n" + BETA, encoding="utf-8")
        return source

    again, scratch = _rebuild_and_scratch(tmp_path, {"a.yaml": ALPHA, "b.yaml": BETA, "c.yaml": GAMMA}, edit)
    assert any("src/b.yaml:6, extract/title" in w for w in scratch[2])
    assert again == scratch


def test_a_reused_topics_warnings_are_not_searched_again(tmp_path, monkeypatch):
    """The files a topic's warnings name are found as it is built and kept in its record: a rebuild reads the
    record, not a smelly source's megabytes of warnings again for every other file."""
    source, out = _source(tmp_path / "src", {"a.yaml": ALPHA, "b.yaml": BETA, "c.yaml": GAMMA}, DRINKS_CONFIG), tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    cache = read_cache(str(out))
    assert cache is not None and cache.topics["alpha"].named == (str(source / "b.yaml"),)  # beta's title answers
    searched: list[str] = []
    real = FileWarnings.names
    monkeypatch.setattr(FileWarnings, "names", lambda self, text: searched.append(self.file) or real(self, text))
    (source / "c.yaml").write_text(GAMMA + "# a comment\n", encoding="utf-8")
    build(BuildConfig(str(source), str(out), timestamp=T2, jobs=1))
    assert set(searched) <= {str(source / "c.yaml")}  # gamma's own, built again; alpha's and beta's reused


def test_a_reused_topic_names_the_first_title_in_the_new_order_of_the_files(tmp_path):
    # beta and gamma both hold the title; beta's file is renamed after gamma's, so gamma's comes first.
    def edit(source: Path) -> Path:
        (source / "b.yaml").rename(source / "z.yaml")
        return source

    gamma = GAMMA.replace("Something else", "Green leaf extract")
    again, scratch = _rebuild_and_scratch(tmp_path, {"a.yaml": ALPHA, "b.yaml": BETA, "c.yaml": gamma}, edit)
    assert any("src/c.yaml:4, other/title" in w for w in scratch[2])
    assert again == scratch


def test_a_reused_topic_sees_a_setting_word_said_of_another_perspective_elsewhere(tmp_path):
    # Only gamma's explanation changes: "garden" is now said of coffee, so alpha's cue no longer names tea's setting.
    def edit(source: Path) -> Path:
        (source / "c.yaml").write_text(GAMMA.replace("first.", "first, in the garden."), encoding="utf-8")
        return source

    files = {"a.yaml": SETTING_ALPHA, "b.yaml": SETTING_BETA, "c.yaml": GAMMA}
    again, scratch = _rebuild_and_scratch(tmp_path, files, edit)
    assert not any("'garden'" in w for w in scratch[2])
    assert again == scratch


def test_an_edit_that_leaves_a_setting_words_answer_as_it_was_rebuilds_its_own_topic_alone(tmp_path, monkeypatch):
    import generator.pipeline.topics as topics

    source = _source(tmp_path / "src", {"a.yaml": SETTING_ALPHA, "b.yaml": SETTING_BETA, "c.yaml": GAMMA}, DRINKS_CONFIG)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    smelled: list[str] = []
    real = topics.smell_topic
    monkeypatch.setattr(topics, "smell_topic", lambda src, topic, notes: smelled.append(topic.id) or real(src, topic, notes))
    # "ocean" is now said of coffee: no cue has it, so alpha's warning stands as it was
    (source / "c.yaml").write_text(GAMMA.replace("first.", "first, by the ocean."), encoding="utf-8")
    again = build(BuildConfig(str(source), str(out), timestamp=T2))
    assert smelled == ["gamma"]
    assert any("'garden'" in w.message for w in again.warnings)


def test_a_copied_source_folder_names_its_own_files_in_the_warnings_text(tmp_path):
    # alpha is reused (only gamma changes in the copy): its warning's text names beta's file in the copy.
    def edit(source: Path) -> Path:
        copy = tmp_path / "copy"
        shutil.copytree(source, copy)
        (copy / "c.yaml").write_text(GAMMA + "# an edit\n", encoding="utf-8")
        return copy

    again, scratch = _rebuild_and_scratch(tmp_path, {"a.yaml": ALPHA, "b.yaml": BETA, "c.yaml": GAMMA}, edit)
    assert any("copy/b.yaml:4" in w for w in scratch[2])
    assert again == scratch


def test_a_copied_source_folder_with_nothing_changed_names_its_own_files_in_the_warnings_text(tmp_path):
    def edit(source: Path) -> Path:
        copy = tmp_path / "copy"
        shutil.copytree(source, copy)
        return copy

    again, scratch = _rebuild_and_scratch(tmp_path, {"a.yaml": ALPHA, "b.yaml": BETA, "c.yaml": GAMMA}, edit)
    assert again == scratch


def test_a_renamed_topic_file_names_itself_in_the_warnings_text(tmp_path):
    # Two cards of one front: each warning's text names the other's file and line, the topic's own file.
    def edit(source: Path) -> Path:
        (source / "basics.yaml").rename(source / "basics2.yaml")
        (source / "c.yaml").write_text(GAMMA + "# an edit\n", encoding="utf-8")
        return source

    config = (SMELLY / "deckgen.yaml").read_text(encoding="utf-8")
    files = {"basics.yaml": (SMELLY / "basics.yaml").read_text(encoding="utf-8"), "c.yaml": GAMMA}
    again, scratch = _rebuild_and_scratch(tmp_path, files, edit, config)
    assert any(f"({tmp_path / 'src'}/basics2.yaml:" in w for w in scratch[2])
    assert again == scratch


def test_a_glossary_term_moved_to_another_topic_is_live_in_the_lock_not_a_tombstone(tmp_path):
    # A released term moves from zeta (built last) to alpha: zeta must not keep its tombstone over alpha's note.
    zeta = GAMMA.replace("topic: gamma", "topic: zeta")
    terms = "terms:\n  - id: theanine\n    term: L-theanine\n    definition: An amino acid in tea leaves.\n"
    source = _source(tmp_path / "src", {"a.yaml": ALPHA, "z.yaml": zeta + terms}, DRINKS_CONFIG)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1, release=True))
    (source / "z.yaml").write_text(zeta, encoding="utf-8")
    (source / "a.yaml").write_text(ALPHA + terms, encoding="utf-8")
    report = build(BuildConfig(str(source), str(out), timestamp=T2))
    assert report.total("removed") == 0
    (line,) = [line for line in (source / "deckgen.lock").read_text(encoding="utf-8").splitlines() if "theanine" in line]
    assert '"removed": null, "topic": "alpha"' in line


def test_a_reused_topic_and_the_no_change_report_count_as_a_full_build_does(tmp_path):
    # A released item removed from beta: "removed" in the build that removes it, then no change at all.
    source = _source(tmp_path / "src", {"a.yaml": ALPHA, "b.yaml": BETA + GAMMA.split("items:\n")[1]}, DRINKS_CONFIG)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1, release=True))
    (source / "b.yaml").write_text(BETA, encoding="utf-8")
    removing = build(BuildConfig(str(source), str(out), timestamp=T2))
    assert {Path(f.path).name: f.changes.removed for f in removing.files}["beta.apkg"] == 1
    (source / "a.yaml").write_text(ALPHA + "# an edit\n", encoding="utf-8")
    reused = build(BuildConfig(str(source), str(out), timestamp=T2 + 1))  # beta reused
    cached = build(BuildConfig(str(source), str(out), timestamp=T2 + 2))  # nothing changed
    full = build(BuildConfig(str(source), str(tmp_path / "fresh"), timestamp=T2 + 2))
    counts = [{Path(f.path).name: f.changes for f in report.files} for report in (reused, cached, full)]
    assert counts[2]["beta.apkg"] == Changes(unchanged=1)  # its note; the tombstone is kept, and no change
    assert counts[0] == counts[1] == counts[2]
    for report in (removing, reused, cached, full):  # a deck's line adds up to its notes
        assert all(f.changes.added + f.changes.updated + f.changes.unchanged == f.notes for f in report.files)


def test_a_text_that_reads_as_its_files_path_stays_itself_in_a_copied_folder(tmp_path):
    # The memo of validated topics keeps a topic without its file's path; a title equal to that path is text.
    alpha = ALPHA.replace("title: Calm focus", f"title: {tmp_path / 'src' / 'a.yaml'}")

    def edit(source: Path) -> Path:
        copy = tmp_path / "copy"
        shutil.copytree(source, copy)
        lock = copy / "deckgen.lock"  # a label edited by hand: alpha is built again, from the memo
        lock.write_text(lock.read_text(encoding="utf-8").replace('"label": "', '"label": "x', 1), encoding="utf-8")
        return copy

    again, scratch = _rebuild_and_scratch(tmp_path, {"a.yaml": alpha, "b.yaml": BETA}, edit)
    assert again == scratch


# --- drawn sources: topics that read one another ------------------------------------------
# A small vocabulary (a seeded generator: the same sources every run), so that a cue's words are often another
# item's title or heading words, or said of another perspective elsewhere: a reused topic's which-perspective
# and answered-elsewhere warnings then depend on the edited file (quality.wording's setting words, the titles).

WORDS = ("garden", "ocean", "morning", "market", "kitchen", "mountain", "festival", "harbor", "village", "winter")
DRINKS = ("tea", "coffee")


def _phrase(rng: random.Random, count: int) -> str:
    return " ".join(rng.sample(WORDS, count)).capitalize()


def _drawn_item(rng: random.Random, item_id: str) -> list[str]:
    lines = [f"  - id: {item_id}", f"    perspective: {rng.choice(DRINKS)}", f"    title: {_phrase(rng, 2)}"]
    if rng.random() < 0.6:
        lines.append(f"    cue: {_phrase(rng, 3)}")
    near, term = rng.sample(WORDS, 2)
    return [*lines, f"    explanation: It happens near the {near} with {{{{{term} {item_id}}}}}."]


def _drawn_topic(rng: random.Random, name: str) -> str:
    lines = [f"topic: {name}", f"name: {name.capitalize()}", "question: Which drink is this?"]
    if rng.random() < 0.5:
        lines += ["headings:", *(f"  {p}: {_phrase(rng, 2)}" for p in rng.sample(DRINKS, rng.randint(1, 2)))]
    lines.append("items:")
    for number in range(rng.randint(2, 4)):
        lines += _drawn_item(rng, f"{name}{number}")
    if rng.random() < 0.6:
        tea, coffee = rng.sample(WORDS, 2)
        lines += [f"comparisons:\n  - id: {name}-cmp\n    dimension: Where it is drunk\n    sides:",
                  f"      tea: In the {tea}\n      coffee: In the {coffee}"]
    return "\n".join(lines) + "\n"


def _drawn_edit(rng: random.Random, text: str) -> str:
    """*text* with an item's perspective flipped, or one word of the vocabulary (a title's, a cue's, a heading's,
    an explanation's, a side's) replaced by another."""
    lines = text.splitlines(keepends=True)
    if rng.random() < 0.2:
        number = rng.choice([n for n, line in enumerate(lines) if line.startswith("    perspective: ")])
        lines[number] = "    perspective: coffee\n" if "tea" in lines[number] else "    perspective: tea\n"
        return "".join(lines)
    places = [(n, word) for n, line in enumerate(lines) for word in WORDS if word in line.lower() and "id:" not in line]
    number, word = rng.choice(places)
    new = rng.choice([w for w in WORDS if w not in lines[number].lower()])
    lines[number] = lines[number].replace(word, new).replace(word.capitalize(), new.capitalize())
    return "".join(lines)


@pytest.mark.parametrize("seed", range(16))
def test_a_rebuild_after_each_of_several_edits_writes_what_a_build_from_scratch_writes(tmp_path, seed):
    # Each edit is rebuilt on the last rebuild: a topic reused since the first build meets every edit made since.
    rng = random.Random(seed)
    files = {f"{n}-{name}.yaml": _drawn_topic(rng, name) for n, name in enumerate(("alpha", "beta", "gamma"))}
    source, out = _source(tmp_path / "src", files, DRINKS_CONFIG), tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    for step in range(4):
        name = rng.choice(sorted(files))
        files[name] = _drawn_edit(rng, files[name])
        (source / name).write_text(files[name], encoding="utf-8")
        again, scratch = _again_and_scratch(source, out, tmp_path / f"fresh{step}", T2 + step)
        assert again[2] == scratch[2], (step, name)  # the warnings first: the difference a reader can follow
        assert again == scratch

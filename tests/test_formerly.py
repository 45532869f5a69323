"""A key term corrected after a release: with ``formerly:``, students' notes update in place, history kept.

A key term's note is keyed by its words, so a corrected typo is a new note,
and the released one is removed (Anki's import keeps it: the student studies
both).  The build says so and shows the line that keeps the note; with that
line, real Anki updates the note students have, and adds nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build

from .ankitools import import_package, open_collection, rendered_cards, study_everything
from .support import MORE, T1, T2, V1, write_source

TYPO = V1.replace("Tea ceremonies are {{formal}}.", "Tea ceremonies are {{fromal}}.")
FIXED = V1.replace("Tea ceremonies are {{formal}}.", "Tea ceremonies are {{formal}}.\n    formerly:\n      formal: fromal")


def _studied(tmp_path: Path) -> tuple[Path, object, dict[int, int]]:
    """The typo's source, released and built, and a student who imported and studied every card."""
    source = write_source(tmp_path / "src", TYPO)
    first = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1, release=True))
    col = open_collection(tmp_path / "student")
    for package in first.files:
        import_package(col, Path(package.path))
    assert study_everything(col) == col.card_count()
    return source, col, dict(col.db.all("select cid, count() from revlog group by cid"))


def _import(col, report) -> None:  # noqa: ANN001 - an anki Collection
    for package in report.files:
        import_package(col, Path(package.path))


def test_a_corrected_key_term_with_formerly_updates_the_studied_note_and_keeps_its_history(tmp_path):
    source, col, history = _studied(tmp_path)
    notes = col.note_count()
    (source / "basics.yaml").write_text(FIXED, encoding="utf-8")
    second = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T2))
    # the cloze, and the item's "which drink?" note, whose back shows the sentence
    assert (second.total("added"), second.total("removed"), second.total("updated")) == (0, 0, 2)
    assert not [n for f in second.files for n in f.notices]
    _import(col, second)
    col.fix_integrity()
    assert col.note_count() == notes  # nothing added beside the studied note
    asked = [card for card in rendered_cards(col) if "Tea ceremonies" in card.question_text]
    assert len(asked) == 1 and "formal" in asked[0].answer_text and "fromal" not in asked[0].answer_text
    assert dict(col.db.all("select cid, count() from revlog group by cid")) == history
    col.close()


def test_without_formerly_the_build_says_which_line_keeps_the_note_and_that_line_keeps_it(tmp_path):
    source, col, history = _studied(tmp_path)
    notes = col.note_count()
    corrected = TYPO.replace("{{fromal}}", "{{formal}}")
    (source / "basics.yaml").write_text(corrected, encoding="utf-8")
    second = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T2))
    assert (second.total("added"), second.total("removed")) == (1, 1)  # a re-import would add a note
    notices = [str(n) for f in second.files for n in f.notices]
    assert len(notices) == 1 and "ritual/term/explanation/formal: note: a new note" in notices[0]
    line = re.search(r"\(`(formerly: .*?)` if it has none\)", notices[0])
    assert line is not None and line[1] == 'formerly: {"formal": "fromal"}'
    again = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T2 + 30))  # nothing changed: still said
    assert [str(n) for f in again.files for n in f.notices] == notices
    (source / "basics.yaml").write_text(
        corrected.replace("{{formal}}.\n", "{{formal}}.\n    " + line[1] + "\n"), encoding="utf-8"
    )
    third = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T2 + 60))
    assert (third.total("added"), third.total("removed")) == (0, 0)
    _import(col, third)
    assert col.note_count() == notes  # the note studied, updated: nothing beside it
    assert dict(col.db.all("select cid, count() from revlog group by cid")) == history
    col.close()


def test_the_note_about_a_new_key_term_lasts_until_a_release_carries_it(tmp_path):
    source = write_source(tmp_path / "src", TYPO)
    build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1, release=True))
    (source / "basics.yaml").write_text(TYPO.replace("{{fromal}}", "{{formal}}"), encoding="utf-8")
    said = []
    for n, release in enumerate((False, False, True, False, False)):
        report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T2 + n, release=release))
        said.append(len([notice for f in report.files for notice in f.notices]))
    assert said == [1, 1, 1, 0, 0]  # the release itself still says it: the author may rebuild before handing out


def test_a_term_both_texts_mark_is_renamed_in_the_text_whose_typo_was_corrected_alone(tmp_path):
    both = TYPO.replace("{{fromal}}.", "{{fromal}}.\n    conclusion: Most are {{formal}}.")
    source = write_source(tmp_path / "src", both)
    build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1, release=True))
    fixed = both.replace("{{fromal}}", "{{formal}}")
    (source / "basics.yaml").write_text(fixed, encoding="utf-8")
    second = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T2))
    notices = [str(n) for f in second.files for n in f.notices]
    line = re.search(r"\(`(formerly: .*?)` if it has none\)", notices[0])
    assert line is not None and line[1] == 'formerly: {"formal": {"explanation": "fromal"}}'
    (source / "basics.yaml").write_text(fixed.replace("    conclusion:", f"    {line[1]}\n    conclusion:"), encoding="utf-8")
    third = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T2 + 60))
    assert (third.total("added"), third.total("removed")) == (0, 0)  # the conclusion's note kept its key too
    assert not [n for f in third.files for n in f.notices]


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_item_moved_to_another_topic_as_its_typo_is_corrected_is_noted_in_its_new_topic(tmp_path, jobs):
    source = write_source(tmp_path / "src", TYPO, extra={"more.yaml": MORE})
    build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1, release=True, jobs=jobs))
    start = TYPO.index("  - id: ritual\n")
    item = TYPO[start : TYPO.index("  - id: storage\n")]
    (source / "basics.yaml").write_text(TYPO.replace(item, ""), encoding="utf-8")
    (source / "more.yaml").write_text(MORE + item.replace("{{fromal}}", "{{formal}}"), encoding="utf-8")
    for n in range(2):  # said by the build that moves it, and by the next one
        report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T2 + n, jobs=jobs))
        notices = [str(notice) for f in report.files for notice in f.notices]
        assert len(notices) == 1 and "more.yaml" in notices[0] and "ritual/term/explanation/formal" in notices[0]
        assert 'add `"formal": "fromal"`' in notices[0]

"""What a build stops holding once it has no more use for it: the memory a large rebuild peaks at."""

from __future__ import annotations

from pathlib import Path

from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build
from generator.quality import crosscard, wording
from generator.source.loader import load_source

from .support import T1, V1, write_source

MORE = V1.replace("basics", "more").replace("Basics", "More").replace("id: ", "id: m-")


def test_a_point_key_is_one_string_however_many_points_bear_it(tmp_path: Path) -> None:
    source = load_source(str(write_source(tmp_path / "src", V1, extra={"more.yaml": MORE})))
    points = [point for topic in source.topics for item in topic.items for point in item.points]
    assert len({point.key for point in points}) < len(points)  # names met more than once
    assert len({id(point.key) for point in points}) == len({point.key for point in points})


def test_the_checks_keep_nothing_of_the_source_once_the_last_topic_is_built(tmp_path: Path) -> None:
    source = write_source(tmp_path / "src", V1, extra={"more.yaml": MORE})
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1, jobs=1))
    assert len(report.files) == 2 and report.notes  # both topics were built and smelled, in this process
    assert crosscard._TITLES == [] and wording._SETTINGS == []

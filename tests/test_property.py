"""Property: whatever a source says, a build succeeds or names a file and line.

Valid sources are mutated at random (lines deleted, inserted, duplicated,
characters swapped, YAML's special characters and YAML 1.1 surprises dropped
in, random unicode), and random bytes are fed in as files.  The only outcomes
allowed are a successful build and a :class:`~generator.errors.ContentError`
whose every problem has a file, a line that exists in it, and a message.  Any
other exception, a traceback in the CLI, is a bug.
"""

from __future__ import annotations

import json
import os
import re
import tempfile

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from generator.errors import ContentError
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build

CONFIG = """\
id: drinks
title: "Tea and Coffee: A Field Guide"
deck: Food 101::Drinks
perspectives:
  tea: Tea
  coffee: Coffee
"""

TOPIC = """\
topic: basics
name: Basics
heading: What each does well
headings:
  tea: "The Tea Side"
question: Whose strength is this?
items:
  - id: origin
    perspective: tea
    title: Origin
    explanation: >-
      Tea comes from {{China}}, and
      spread along {{trade routes}}.
    points:
      leaves: Camellia sinensis leaves
      meetings: "{{Calm}} meetings"
    conclusion: |
      Many people switch.
      Some switch back.
    tags: [history, tea::origin]
  - id: roast
    perspective: coffee
    points:
      dark: A {{dark}} roast
comparisons:
  - id: caffeine
    dimension: Caffeine per cup
    sides:
      tea: About 40 mg
      coffee: About 95 mg
    tags: [chemistry]
"""

SECOND_TOPIC = (
    TOPIC.replace("topic: basics", "topic: more")
    .replace("id: origin", "id: harvest")
    .replace("id: roast", "id: grind")
    .replace("id: caffeine", "id: price")
)
"""A second topic with ids of its own, so that it is valid beside the first."""

SPECIAL = [
    "{", "}", "{{", "}}", "[", "]", "&a ", "*a", "!x ", "!!str ", ": ", ":", "- ", "-", "? ", "\t", "  ",
    "#", "'", '"', "|", ">", "%", "@", "`", ",", "\\", "\n", "---\n", "...\n", "<<: ", "~", "null",
    "no", "yes", "on", "1.10", "0x1F", "3:30", "2024-01-02", ".inf", "12", "", " ",
    "é", "😀", "中文", "\u00a0", "\u200b", "\u2028", "\x85", "\ufeff", "\x07", "\x00", "\x1b[31m", "\r",
    "<script>alert(1)</script>", "::", "../", "/", "id: origin", "topic: basics", "tea", "coffee",
]
FRAGMENTS = [
    "  - id: extra", "    title: Extra", "    explanation: An {{extra}} term.", "comparisons:", "items:",
    "      extra: An extra point", "    sides:", "      tea: Less", "name: Again", "topic: ../x",
    "    perspective: milk", "&anchor", "*alias", "a: &x [1, 2]", "b: *x", "!!python/object:os.system",
]


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """*text* after one to four random edits of its lines and characters."""
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(["delete", "insert", "duplicate", "swap", "special", "indent", "unicode"]))
        at = draw(st.integers(0, len(lines) - 1)) if lines else 0
        if edit == "delete" and lines:
            del lines[at]
        elif edit == "insert":
            lines.insert(at, draw(st.sampled_from(FRAGMENTS) | st.text(max_size=30)))
        elif edit == "duplicate" and lines:
            lines.insert(at, lines[at])
        elif edit == "indent" and lines:
            lines[at] = draw(st.sampled_from(["", " ", "   ", "\t", "      "])) + lines[at].lstrip()
        elif lines:
            line = lines[at]
            pos = draw(st.integers(0, len(line)))
            if edit == "swap" and len(line) >= 2:
                pos = min(pos, len(line) - 2)
                line = line[:pos] + line[pos + 1] + line[pos] + line[pos + 2 :]
            else:
                token = draw(st.sampled_from(SPECIAL) if edit == "special" else st.text(min_size=1, max_size=4))
                cut = draw(st.integers(0, min(3, len(line) - pos)))  # replace a little, or just insert
                line = line[:pos] + token + line[pos + cut :]
            lines[at] = line
    return "\n".join(lines)


_VALUE = re.compile(r"^(\s*(?:- )?(?!id:|topic:|perspective:)[a-z_]+: )(?![>|]).+$")
"""A one-line text value (not an id, which random text would rarely be)."""


@st.composite
def revalued(draw: st.DrawFn, text: str) -> str:
    """*text* with one to three one-line values replaced by random text, quoted or not."""
    lines = text.split("\n")
    candidates = [index for index, line in enumerate(lines) if _VALUE.match(line)]
    for index in draw(st.sets(st.sampled_from(candidates), min_size=1, max_size=3)):
        match = _VALUE.match(lines[index])
        value = draw(st.text(min_size=1, max_size=40) | st.sampled_from(SPECIAL))
        quoted = draw(st.booleans())
        lines[index] = match.group(1) + (json.dumps(value, ensure_ascii=False) if quoted else value)
    return "\n".join(lines)


def outcome(files: dict[str, bytes]) -> str:
    """Build a source made of *files*; 'built' or 'refused', or let anything else escape."""
    with tempfile.TemporaryDirectory() as root:
        source = os.path.join(root, "src")
        os.mkdir(source)
        for name, data in files.items():
            with open(os.path.join(source, name), "wb") as handle:
                handle.write(data)
        try:
            build(BuildConfig(source, os.path.join(root, "out"), timestamp=1_700_000_000))
        except ContentError as error:
            assert error.problems
            for problem in error.problems:
                assert_located(problem, source, files)
            assert not os.path.exists(os.path.join(root, "out"))
            event("refused")
            return "refused"
        assert os.listdir(os.path.join(root, "out"))
        event("built")
        return "built"


def assert_located(problem, source: str, files: dict[str, bytes]) -> None:  # noqa: ANN001 - a Problem
    """A file of the source (or the folder), a line that exists in it, and a message."""
    assert problem.message.strip(), problem
    assert problem.file == source or os.path.dirname(problem.file) == source, problem
    assert isinstance(problem.line, int) and problem.line >= 1, problem
    data = files.get(os.path.basename(problem.file))
    if data is not None:
        try:
            lines = len(data.decode("utf-8").splitlines())
        except UnicodeDecodeError:
            lines = data.count(b"\n") + 1
        assert problem.line <= max(lines, 1), problem
    assert "Traceback" not in problem.message


FAST = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(mutated(TOPIC))
def test_mutated_topic_builds_or_is_located(topic):
    outcome({"deckgen.yaml": CONFIG.encode(), "basics.yaml": topic.encode("utf-8", "surrogatepass")})


@FAST
@given(revalued(TOPIC), revalued(CONFIG))
def test_random_values_build_or_are_located(topic, config):
    outcome({"deckgen.yaml": config.encode("utf-8", "surrogatepass"), "basics.yaml": topic.encode("utf-8", "surrogatepass")})


@FAST
@given(mutated(CONFIG))
def test_mutated_config_builds_or_is_located(config):
    outcome({"deckgen.yaml": config.encode("utf-8", "surrogatepass"), "basics.yaml": TOPIC.encode()})


@FAST
@given(mutated(TOPIC), mutated(SECOND_TOPIC))
def test_two_mutated_topics_build_or_are_located(first, second):
    outcome({
        "deckgen.yaml": CONFIG.encode(),
        "a.yaml": first.encode("utf-8", "surrogatepass"),
        "b.yaml": second.encode("utf-8", "surrogatepass"),
    })


@FAST
@given(st.binary(max_size=400) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_random_bytes_are_refused_with_a_location(data):
    assert outcome({"deckgen.yaml": CONFIG.encode(), "basics.yaml": data}) == "refused"


@FAST
@given(st.binary(max_size=64), st.integers(0, len(TOPIC)))
def test_random_bytes_inside_a_topic(data, at):
    raw = TOPIC.encode()
    outcome({"deckgen.yaml": CONFIG.encode(), "basics.yaml": raw[:at] + data + raw[at:]})

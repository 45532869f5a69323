"""What several test modules share: paths, build times and small sources.

Test modules import from here, never from one another (nor from conftest,
which holds only pytest fixtures).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_SOURCE = ROOT / "cards_source"
BUILD_TIME = 1_700_000_000
"""A fixed build time (2023-11-14), for builds whose bytes a test compares."""

T1 = BUILD_TIME
T2 = T1 + 86_400
"""A first build and a rebuild one day later."""


def lock_written_at(lock: Path) -> int:
    """The newest time *lock* holds (a note's modification or removal): when a build last wrote it.

    A build then finds nothing to change.  A build on today's date may: it drops
    the tombstones past their retention (60 days), so a test that holds a
    committed lock unchanged builds at this time, not at the calendar's.
    """
    notes = json.loads(lock.read_text(encoding="utf-8"))["notes"].values()
    return max(max(note["mod"], note.get("removed") or 0) for note in notes)


RECIPES_CHECKED: list[str] = []
"""Every recipe a test loaded through the command line and the recipe schema accepted (see conftest.py)."""

DRINKS_CONFIG = """\
id: drinks
title: Tea and Coffee
deck: Drinks
perspectives:
  tea: Tea
  coffee: Coffee
"""


def write_source(folder: Path, topic: str, config: str = DRINKS_CONFIG, extra: dict[str, str] | None = None) -> Path:
    """A small source folder: *config* as deckgen.yaml, *topic* as basics.yaml, and *extra* files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deckgen.yaml").write_text(config, encoding="utf-8")
    (folder / "basics.yaml").write_text(topic, encoding="utf-8")
    for name, text in (extra or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


# A topic of the drinks source: four items with points and key terms, one comparison.
V1 = """\
topic: basics
name: Basics
question: Which drink is this?
items:
  - id: origin
    perspective: tea
    title: "{{Origin}}"
    explanation: Tea comes from {{China}}.
    points:
      leaves: "{{Camellia sinensis}} leaves"
      green: Green tea is {{unoxidised}}
      black: Black tea is {{fully oxidised}}
  - id: brewing
    perspective: coffee
    title: Brewing
    explanation: Coffee is brewed from roasted beans.
    points:
      grind: Grind the {{beans}}
      pour: Pour {{hot water}}
  - id: ritual
    perspective: tea
    title: Ritual
    explanation: Tea ceremonies are {{formal}}.
  - id: storage
    perspective: coffee
    title: Storage
    explanation: Keep beans in an {{airtight}} jar.
comparisons:
  - id: caffeine
    dimension: Caffeine
    sides:
      tea: Less
      coffee: More
"""


# A second topic beside V1's (more.yaml): two items, one of each perspective.
MORE = """\
topic: more
name: More
question: Which drink is this?
items:
  - id: milk
    perspective: tea
    title: Milk
    explanation: Tea is often drunk with {{milk}}.
  - id: crema
    perspective: coffee
    title: Crema
    explanation: An espresso wears a {{crema}}.
"""


# Every heading of tests/sources/essay.md, the essay the bundled source states
# (written out here, not read from the essay, so a lost heading is noticed).
ESSAY_HEADINGS = [
    "Understanding the Fundamental Divide",
    "The Autonomous Self",
    "The Relational Self",
    "The Individualist Strengths: What Works",
    "Personal Freedom and Autonomy",
    "Innovation and Creativity",
    "Meritocracy and Social Mobility",
    "Personal Responsibility and Agency",
    "Authenticity and Self-Expression",
    "Direct Communication",
    "The Individualist Limitations: What Doesn't Work",
    "Epidemic Loneliness",
    "The Burden of Endless Choice",
    "Atomization and Fragmentation",
    "Narcissism and Self-Centeredness",
    "Anxiety and Depression",
    "Inability to Address Collective Challenges",
    "The Collectivist Strengths: What Works",
    "Built-In Support Networks",
    "Strong Sense of Belonging",
    "Effective Collective Action",
    "Reduced Social Competition",
    "Emotional Interdependence",
    "Respect for Wisdom and Experience",
    "Indirect Communication Preserves Harmony",
    "The Collectivist Limitations: What Doesn't Work",
    "Suppression of Individual Identity",
    "Rigid Social Hierarchies",
    "Intense Conformity Pressure",
    "Lack of Personal Accountability",
    "The Weight of Obligation",
    "Slower Social Change",
    "Face-Saving Over Truth",
    "What We Can Learn From Each Other",
    "From Individualism, Collectivism Can Learn",
    "Personal Freedom Within Community",
    "Merit-Based Recognition",
    "Direct Communication When Appropriate",
    "Individual Rights as Foundation",
    "Questioning Tradition",
    "From Collectivism, Individualism Can Learn",
    "Interdependence Over Independence",
    "Collective Responsibility",
    "Long-Term Thinking",
    "The Value of Obligation",
    "Harmony and Face-Saving",
    "Honoring Elders and Tradition",
    "Toward Integration: The Middle Path",
    "Identity",
    "Success",
    "Responsibility",
    "Freedom",
    "Communication",
    "Decision-Making",
    "Values",
    "Practical Applications",
    "In Relationships",
    "In Parenting",
    "In Work",
    "In Community",
    "In Self-Development",
    "The Bottom Line",
]


def chromium() -> str:
    """Chromium's path; skip without it, except on CI (CI is set), where it must be installed."""
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed, and CI is set: install Debian's chromium package")
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    return path


# A child deckgen that kills itself with SIGKILL just before one file-system step of its
# commit: the NTH os.replace onto a name ending with SUFFIX ("replace"), or the NTH fsync
# of a file whose name ends with SUFFIX ("fsync", e.g. while staging a package).
KILLED_CHILD = """
import os, signal, sys
step, suffix, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen = [0]
def at(name, path_of):
    real = getattr(os, name)
    def step_(*args, **kwargs):
        if str(path_of(*args)).endswith(suffix):
            seen[0] += 1
            if seen[0] == nth:
                os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    setattr(os, name, step_)
if step == "replace":
    at("replace", lambda source, target: target)
else:
    at("fsync", lambda fd: os.readlink(f"/proc/self/fd/{fd}"))
from generator.cli import main
main(sys.argv[4:])
"""


def killed_build(step: str, suffix: str, nth: int, *args: str, epoch: int = T2) -> subprocess.CompletedProcess[str]:
    """Run ``deckgen build *args`` in a child killed at the *nth* *step* (replace or fsync) on a name ending *suffix*."""
    # A killed build cannot remove its spool (see generator.pipeline.spool): the
    # child's temporary folder is one of ours, removed after it.
    with tempfile.TemporaryDirectory() as temporary:
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch), "TMPDIR": temporary}
        command = [sys.executable, "-c", KILLED_CHILD, step, suffix, str(nth), "build", "-q", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, check=False)


def in_a_child(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``deckgen *args`` in a child process in *cwd*, so that a read that blocks fails the test (a timeout)
    instead of hanging the suite."""
    command = [sys.executable, "-m", "generator", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=cwd, check=False)

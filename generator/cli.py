"""The ``deckgen`` command line: parse, call one core function, report.

This is the only module that imports click.  Library errors
(:class:`~generator.errors.DeckgenError`) become ``click.ClickException``:
exit 1 with every problem on its own line; usage errors exit 2 (click's own).
Every command that reports what it did takes ``-q`` (only the summary line,
warnings and errors) and ``-v`` (the detail behind the summary), and colour
is used only on a terminal and never when ``NO_COLOR`` is set.
The library is imported inside each command, so ``deckgen --help`` starts fast.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any, NoReturn, ParamSpec, TypedDict, TypeVar, Unpack

import click
from click.core import ParameterSource

from generator import __version__
from generator.cards.kinds import KIND_NAMES
from generator.errors import ContentError, DeckgenError, Problem, Warnings, counted, printable
from generator.pipeline.formats import FORMATS, FileFormat

if TYPE_CHECKING:  # names for annotations only, not imported when the command line starts (`deckgen --help`)
    from click._termui_impl import ProgressBar

    from generator.pipeline.config import Progress, RequestMaker
    from generator.pipeline.pipeline import BuildReport, Checked, DeckFile
    from generator.views.findings import OutputFormat

DEFAULT_SOURCE = "cards_source"
DEFAULT_OUT = "decks_out"

P = ParamSpec("P")
T = TypeVar("T")
Command = TypeVar("Command", bound=Callable[..., Any])


class _ContentFailure(click.ClickException):
    """Prints each problem on its own line, then a count."""

    def __init__(self, error: ContentError) -> None:
        super().__init__(str(error))
        self.problems = error.problems
        self.writes = True  # False for a command that never writes: "nothing was written" would mislead

    def show(self, file: IO[Any] | None = None) -> None:
        """Every problem, then how many (on stderr, as click shows its errors)."""
        _echo_problems(self.problems, error=True)
        written = "; nothing was written" if self.writes else ""
        click.echo(_paint("Error:", fg="red", bold=True) + f" {counted(len(self.problems), 'problem')} found{written}.",
                   err=True)


def _run(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)``, with a library error as click's (exit 1, no traceback)."""
    try:
        return function(*args, **kwargs)
    except ContentError as error:
        raise _ContentFailure(error) from None
    except DeckgenError as error:
        raise click.ClickException(str(error)) from None


def _echo_problems(problems: Iterable[Problem], *, error: bool = False) -> None:
    """Errors (red) or warnings (yellow), one per line, on stderr; colour only on a terminal without NO_COLOR."""
    _echo_lines(map(str, problems), "red" if error else "yellow")


def _echo_warnings(warnings: Warnings) -> None:
    """A build's warnings as :func:`_echo_problems` prints them, from their printed text (no problem made of each).

    A file's warnings a write, styled once: a large source has a hundred thousand.
    """
    for text in warnings.printed():
        click.echo(_paint(text, fg="yellow"), err=True)


def _echo_lines(lines: Iterable[str], colour: str) -> None:
    found = iter(lines)
    # A thousand lines a write, styled once: a large source can have a hundred thousand problems
    while chunk := "\n".join(itertools.islice(found, 1000)):
        click.echo(_paint(chunk, fg=colour), err=True)


def _paint(text: str, **style: Any) -> str:
    """*text* styled, unless NO_COLOR is set (https://no-color.org); click.echo strips it off a terminal."""
    return text if os.environ.get("NO_COLOR") else click.style(text, **style)


_VERBOSITY = "deckgen.verbosity"


def _set_verbosity(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    """Record -q (-1) or -v (1) in the context, refusing both at once."""
    level = -1 if param.name == "quiet" else 1
    if value and ctx.meta.setdefault(_VERBOSITY, level) != level:
        raise click.UsageError("--quiet and --verbose cannot be combined")
    return value


def _verbosity_options(command: Command) -> Command:
    """-q/--quiet and -v/--verbose, the same for every command that reports what it did (see _verbosity)."""
    verbose = click.option(
        "-v", "--verbose", is_flag=True, expose_value=False, callback=_set_verbosity,
        help="Print the detail behind the summary too.",
    )
    quiet = click.option(
        "-q", "--quiet", is_flag=True, expose_value=False, callback=_set_verbosity,
        help="Print only the summary line, warnings and errors.",
    )
    return quiet(verbose(command))


def _verbosity() -> int:
    """-1 with --quiet, 1 with --verbose, else 0."""
    level: int = click.get_current_context().meta.get(_VERBOSITY, 0)
    return level


def _say_each(lines: Iterable[str]) -> None:
    """A line per file written, unless --quiet."""
    if _verbosity() >= 0:
        for line in lines:
            click.echo(line)


# --- options shared by several commands ---------------------------------------

_source_option = click.option(
    "--source",
    "source_dir",
    default=DEFAULT_SOURCE,
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder of YAML sources (deckgen.yaml and one file per topic).",
)
_strict_option = click.option(
    "--strict", is_flag=True, help="Treat card smells (warnings) as errors: exit 1, write nothing."
)
_out_option = click.option(
    "--out",
    "out_dir",
    default=DEFAULT_OUT,
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to write the decks into.",
)
_lock_option = click.option(
    "--lock",
    "lock_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="Build lock to read and update  [default: SOURCE/deckgen.lock]",
)
_SELECTION_OPTIONS = (
    click.option("--topic", "topics", multiple=True, metavar="ID", help="Only this topic (repeatable)."),
    click.option(
        "--perspective", "perspectives", multiple=True, metavar="ID", help="Only this perspective (repeatable)."
    ),
    click.option(
        "--kind", "kinds", multiple=True, type=click.Choice(KIND_NAMES), help="Only this kind of note."
    ),
    click.option("--tag", "tags", multiple=True, metavar="TAG", help="Only notes with this tag or a child of it."),
    click.option(
        "--deck-name", metavar="NAME", help='Build one deck of the selection, named NAME (e.g. "Soc 101::Week 3").'
    ),
    click.option(
        "--extra-tag", "extra_tags", multiple=True, metavar="TAG", help="Add TAG to every note (with --deck-name)."
    ),
    click.option(
        "--recipe",
        type=click.Path(dir_okay=False, exists=True),
        help="Build the custom decks of a recipe file (YAML) instead.",
    ),
)


class _Selection(TypedDict):
    """What the selection options pass to a command."""

    topics: tuple[str, ...]
    perspectives: tuple[str, ...]
    kinds: tuple[str, ...]
    tags: tuple[str, ...]
    deck_name: str | None
    extra_tags: tuple[str, ...]
    recipe: str | None


def _selection_options(command: Command) -> Command:
    """Add the selection options (``--topic`` ... ``--recipe``) to *command*, in the order of their help."""
    for option in reversed(_SELECTION_OPTIONS):
        command = option(command)
    return command


# --- the commands ----------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deckgen")
def main() -> None:
    """Turn study content written in YAML into Anki decks.

    \b
    Example:
        deckgen check              # validate cards_source/
        deckgen build              # write decks_out/<topic>.apkg
    """


@main.command()
@_source_option
@_strict_option
@_verbosity_options
@click.option(
    "--format", "output", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
    help="text: file:line: lines for people; json: a list of objects on stdout; "
    "github: GitHub Actions workflow commands (annotations on a pull request's lines).",
)
def check(source_dir: str, strict: bool, output: OutputFormat) -> None:
    """Validate the sources and print every problem as file:line: what is wrong.

    Card smells (an answer already on the front, a front too long for a
    phone, a cloze that hides a sentence, ...) are printed as warnings;
    --strict makes them errors.  Exit 1 if there is an error.

    \b
    Examples:
        deckgen check --strict --source cards_source
        deckgen check --format github    # in a GitHub Actions step
    """
    from generator.pipeline.pipeline import check_cards

    if output != "text":
        _check_for_machines(source_dir, strict, output)
        return
    try:
        checked = _run(check_cards, source_dir, strict)
    except _ContentFailure as failure:
        failure.writes = False
        raise
    _echo_problems(checked.warnings)
    _echo_empty(_unasked_topics(checked))
    if _verbosity() > 0:
        for line in _topic_lines(checked):
            click.echo(line)
    click.echo(_check_summary(source_dir, checked))


def _unasked_topics(checked: Checked) -> list[str]:
    """The topics that make no card: they vanish from the build, so check says so now."""
    asked = {note.topic for note in checked.notes}
    return [topic.id for topic in checked.source.topics if topic.id not in asked]


def _topic_lines(checked: Checked) -> Iterator[str]:
    """``check -v``: what each topic file holds and makes."""
    for topic in checked.source.topics:
        notes = [note for note in checked.notes if note.topic == topic.id]
        terms = f", {counted(len(topic.terms), 'term')}" if topic.terms else ""  # a glossary's, said only if any
        yield (
            f"{printable(topic.file)}: {topic.id}: {counted(len(topic.items), 'item')}, "
            f"{counted(len(topic.comparisons), 'comparison')}{terms} -> {counted(len(notes), 'note')}, "
            f"{counted(sum(n.cards for n in notes), 'card')}"
        )


def _check_for_machines(source_dir: str, strict: bool, output: OutputFormat) -> None:
    """``check`` in JSON or as workflow commands: every problem on stdout; the count of errors and notes on stderr."""
    from generator.pipeline.pipeline import check_cards
    from generator.views.findings import as_github, as_json

    render = as_json if output == "json" else as_github
    try:
        checked = _run(check_cards, source_dir, strict)
    except _ContentFailure as failure:
        click.echo(render(failure.problems, ()), nl=False)
        raise click.ClickException(f"{counted(len(failure.problems), 'problem')} found.") from None
    click.echo(render((), checked.warnings), nl=False)
    _echo_empty(_unasked_topics(checked))  # on stderr, as in text: stdout holds only the problems


def _echo_empty(topics: Sequence[str]) -> None:
    """The note that topics make no card (so no package): said by check, plan and build alike."""
    if topics:
        click.echo(
            f"note: {', '.join(printable(t) for t in topics)}: no card (every item is context and there is "
            "no comparison), so no package; mark a key term with {{...}} to ask something",
            err=True,
        )


def _check_summary(source_dir: str, checked: Checked) -> str:
    """The line that ``check`` prints for a valid source: what it holds and makes."""
    topics = checked.source.topics
    items = sum(len(t.items) for t in topics)
    comparisons = sum(len(t.comparisons) for t in topics)
    notes, cards = len(checked.notes), sum(n.cards for n in checked.notes)
    context = checked.context_items
    unasked = f" ({context} context only)" if context else ""
    smells = f"; {counted(len(checked.warnings), 'warning')}" if checked.warnings else ""
    return (
        f"{source_dir}: OK: {counted(len(topics), 'topic')}, {counted(items, 'item')}{unasked}, "
        f"{counted(comparisons, 'comparison')} -> {counted(notes, 'note')}, {counted(cards, 'card')}{smells}"
    )


@main.command()
@_source_option
@_out_option
@_lock_option
@_selection_options
@_strict_option
@_verbosity_options
def plan(source_dir: str, out_dir: str, lock_path: str | None, strict: bool, **selection: Unpack[_Selection]) -> None:
    """Show what a build would change, per deck, against the lock; write nothing.

    Counts are what a re-import into a collection that has the last build
    would do: notes added, updated, unchanged, and removed from the source.

    \b
    Example:
        deckgen plan --source cards_source
    """
    from generator.pipeline.config import BuildConfig
    from generator.pipeline.pipeline import plan as plan_build

    requests, source_dir = _requests(source_dir, selection)
    config = BuildConfig(source_dir, out_dir, lock_path=lock_path, requests=requests, strict=strict)
    report = _run(plan_build, config)
    _run(_echo_warnings, report.warnings)  # a damaged cache's warnings say so when unpacked
    _echo_lines(map(str, report.notices), "cyan")
    _report_changes(report, "Would build")


@main.command()
@_source_option
@_out_option
@_lock_option
@_selection_options
@click.option(
    "--format", "file_format", type=click.Choice(FORMATS), default="apkg", show_default=True,
    help="Anki packages, or Anki's CSV text format (needs deckgen's note types in the collection).",
)
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), default=None,
    help="Worker processes for the topics  [default: the machine's cores; one for a small source]",
)
@click.option(
    "--release", is_flag=True,
    help="These decks go to students: mark their notes released (only released notes are marked when removed).",
)
@_strict_option
@_verbosity_options
def build(
    source_dir: str,
    out_dir: str,
    lock_path: str | None,
    file_format: FileFormat,
    jobs: int | None,
    release: bool,
    strict: bool,
    **selection: Unpack[_Selection],
) -> None:
    """Build one Anki package (.apkg) per topic, or custom decks, and update the lock.

    Nothing is written unless every source is valid; the packages and the
    lock are replaced atomically.  SOURCE_DATE_EPOCH, when set, is the time
    given to edited notes.  Build with --release the decks you hand out: a
    note no release carried leaves no trace in the lock when it goes.

    \b
    Examples:
        deckgen build --source cards_source --out decks_out
        deckgen build --release
        deckgen build --topic strengths --kind cloze --deck-name "Soc 101::Week 3"
        deckgen build --recipe course.yaml
        deckgen build --format csv
    """
    from generator.pipeline.config import BuildConfig
    from generator.pipeline.pipeline import build as build_decks

    requests, source_dir = _requests(source_dir, selection)
    config = BuildConfig(
        source_dir, out_dir, lock_path=lock_path, requests=requests, file_format=file_format, strict=strict,
        jobs=jobs, release=release,
    )
    with _progress(_verbosity() < 0) as progress:
        report = _run(build_decks, config, progress=progress)
    _run(_echo_warnings, report.warnings)  # a damaged cache's warnings say so when unpacked
    _echo_lines(map(str, report.notices), "cyan")
    if report.unreleased and report.lock_path is not None:
        click.echo(
            f"note: {counted(report.unreleased, 'note')} in no release yet (removing one leaves no trace); "
            "build with --release the decks you hand out",
            err=True,
        )
    _report_changes(report, "Built")
    if release and report.lock_path is not None:  # said, as the note above is: a release changes no package
        click.echo(f"Released: {counted(report.notes, 'note')}, marked as handed out in {printable(report.lock_path)}.")


@main.command()
@_source_option
@_out_option
@click.option(
    "--port", type=click.IntRange(0, 65535), default=None,
    help="Port to serve the preview on, 0 for any free one  [default: 8000, or a free one if it is taken]",
)
@click.option("--no-serve", is_flag=True, help="Only rebuild; do not serve the preview page.")
def watch(source_dir: str, out_dir: str, port: int | None, no_serve: bool) -> None:
    """Rebuild the decks and the preview page on every save; serve the page with live reload.

    Each save is checked as `deckgen check` does: problems are printed (and
    shown on the page) and nothing is written; a valid source is built into
    --out with OUT/preview.html.  The page on http://127.0.0.1:PORT/ reloads
    itself after each rebuild.  Ctrl-C stops.  Needs the `watch` extra.

    \b
    Example:
        deckgen watch --source my_course --out my_decks
    """
    from generator.authoring.watch import Console
    from generator.authoring.watch import watch as watch_source

    console = Console(say=click.echo, warn=lambda line: click.echo(line, err=True))
    _run(watch_source, source_dir, out_dir, console, port=port, serve=not no_serve)


@contextlib.contextmanager
def _progress(quiet: bool) -> Iterator[Progress | None]:
    """click's progress bar on stderr, only on a terminal and not with --quiet (else None)."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    with contextlib.ExitStack() as stack:
        bar: ProgressBar[int] | None = None

        def update(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:  # the total is known only once the build has its notes
                bar = stack.enter_context(click.progressbar(length=total, label="Building decks", file=sys.stderr))
            bar.update(done - bar.pos)

        yield update


def _requests(source_dir: str, selection: _Selection) -> tuple[RequestMaker | None, str]:
    """The requests maker and source folder for the selection options (None: the default build)."""
    _check_tags(selection)
    if selection["recipe"]:
        return _recipe_requests(source_dir, selection["recipe"], selection)
    filters = (selection["topics"], selection["perspectives"], selection["kinds"], selection["tags"])
    deck_name, extra_tags = selection["deck_name"], selection["extra_tags"]
    if deck_name is not None and not deck_name.strip():  # "" is falsy: it would silently build the default decks
        raise click.BadParameter("a deck name may not be empty", param_hint="'--deck-name'")
    if extra_tags and not deck_name:
        raise click.UsageError("--extra-tag needs --deck-name")
    if not (any(filters) or deck_name):
        return None, source_dir  # the default build, which never imports the selection's module
    from generator.cards.selection import Selection
    from generator.pipeline.pipeline import custom_decks

    return custom_decks(Selection(*filters), deck_name, extra_tags), source_dir


def _check_tags(selection: _Selection) -> None:
    """A usage error for a tag genanki would refuse or CSV would split (or deckgen's own removed tag)."""
    given = (("--tag", selection["tags"]), ("--extra-tag", selection["extra_tags"]))
    if not any(values for _, values in given):
        return  # a default build: the loader (and YAML) is not imported for nothing
    from generator.source.loader import tag_problem

    for option, values in given:
        for tag in values:
            if problem := tag_problem(tag):
                raise click.BadParameter(problem, param_hint=f"'{option}'")


def _recipe_requests(source_dir: str, recipe: str, selection: _Selection) -> tuple[RequestMaker, str]:
    """The decks of *recipe*, built from its source (or *source_dir*, which must not contradict it)."""
    from generator.cards.recipe import load_recipe
    from generator.pipeline.pipeline import recipe_decks

    if any(selection[name] for name in ("topics", "perspectives", "kinds", "tags", "deck_name", "extra_tags")):
        raise click.UsageError("--recipe cannot be combined with selection options")
    loaded = _run(load_recipe, recipe)
    given = click.get_current_context().get_parameter_source("source_dir") is ParameterSource.COMMANDLINE
    if loaded.source and given and os.path.abspath(loaded.source) != os.path.abspath(source_dir):
        raise click.UsageError(
            f"--source {source_dir} and the recipe's source {loaded.source} differ; give one of them"
        )
    return recipe_decks(loaded), loaded.source or source_dir


def _report_changes(report: BuildReport, verb: str) -> None:
    """Stale packages (stderr), then a line per package unless --quiet (and its decks if --verbose), then the totals."""
    for path in report.stale:
        click.echo(
            f"note: {printable(path)} is not built from this source (no such topic); delete it if it is old", err=True
        )
    _echo_empty(report.empty)
    if _verbosity() >= 0:
        for file in report.files:
            click.echo(_file_line(file))
            if _verbosity() > 0:
                for deck in file.decks:
                    click.echo(f"    {printable(deck)}")
    if _verbosity() > 0 and report.lock_path:
        click.echo(f"lock: {printable(report.lock_path)}")
    click.echo(
        f"{verb} {counted(len(report.files), 'deck')}: {counted(report.notes, 'note')}, "
        f"{counted(report.cards, 'card')}; "
        f"{report.total('added')} added, {report.total('updated')} updated, "
        f"{report.total('unchanged')} unchanged, {report.total('removed')} removed."
    )


def _file_line(file: DeckFile) -> str:
    """One package: its notes and cards, and what a re-import does to its notes."""
    c = file.changes
    return (
        f"{file.path}: {counted(file.notes, 'note')}, {counted(file.cards, 'card')} "
        f"({c.added} added, {c.updated} updated, {c.unchanged} unchanged, {c.removed} removed)"
    )


@main.command(name="list")
@_source_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def list_command(source_dir: str, as_json: bool) -> None:
    """List perspectives, topics, items, and notes and cards per deck.

    \b
    Examples:
        deckgen list
        deckgen list --json | python -m json.tool
    """
    import json  # only `list --json` needs it

    from generator.views.listing import inventory, render_tables

    data = _run(inventory, source_dir)
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if as_json else render_tables(data))


@main.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--title", default=None, help="The source's title  [default: from FOLDER]")
@_verbosity_options
def new(folder: str, title: str | None) -> None:
    """Write a commented starter source into FOLDER; it builds as it is.

    \b
    Example:
        deckgen new my_course && deckgen build --source my_course --out my_decks
    """
    from generator.authoring.starter import write_starter

    if not folder.strip():  # "" is no folder: os.path.exists("") is False, and the files would land in "."
        raise click.UsageError("FOLDER is empty: name the folder to write, as in: deckgen new my_course")
    _say_each(f"wrote {path}" for path in _run(write_starter, folder, title))
    click.echo(f"Next: edit {folder}/*.yaml, then: deckgen check --source {folder}")


@main.command()
@click.argument("essay", type=click.Path(dir_okay=False, exists=True))
@click.option("--out", "folder", default=None, help="The source folder to write  [default: ESSAY's name + _source]")
@_verbosity_options
def draft(essay: str, folder: str | None) -> None:
    """Draft a source folder from a Markdown text (never overwrites a folder).

    Headings become topics (##) and items (###…), paragraphs explanations,
    lists points, *emphasis* key terms; ids are slugs of the headings.  The
    perspectives, and which item belongs to which, are left for you to decide
    (marked DECIDE in comments).  The draft passes `deckgen check` as written.

    \b
    Example:
        deckgen draft essay.md --out my_course && deckgen check --source my_course
    """
    from generator.authoring.draft import draft_source

    folder = folder or os.path.splitext(essay)[0] + "_source"
    _say_each(f"wrote {path}" for path in _run(draft_source, essay, folder))
    click.echo(f"Next: read the DECIDE comments in {folder}/*.yaml, then: deckgen check --source {folder}")


@main.command()
@click.option(
    "--out", "folder", default=os.path.join(DEFAULT_SOURCE, "schema"), show_default=True,
    type=click.Path(file_okay=False), help="Folder to write the three schemas into.",
)
@_verbosity_options
def schema(folder: str) -> None:
    """Write JSON Schemas of deckgen.yaml, topic files and recipes, for editors.

    An editor with the YAML language server (VS Code's YAML extension,
    Neovim, JetBrains) then completes keys, shows what each means and marks
    mistakes as you type, in a file whose first line names its schema:

    \b
        # yaml-language-server: $schema=schema/topic.schema.json

    `deckgen new` and `deckgen draft` write both already; run this after
    upgrading deckgen to refresh them.

    \b
    Example:
        deckgen schema --out my_course/schema
    """
    from generator.authoring.editor_schema import write_schemas

    _say_each(f"wrote {path}" for path in _run(write_schemas, folder))


@main.command()
@_source_option
@click.option(
    "--out", "out", default=DEFAULT_OUT, show_default=True, type=click.Path(),
    help="Folder the decks are built into; the page is preview.html there (a path ending in .html names the page).",
)
@_verbosity_options
def preview(source_dir: str, out: str) -> None:
    """Write an HTML page showing every card's front and back as Anki renders them.

    The page is self-contained (the note types' CSS, no external files),
    grouped by deck, with a light/night switch; open it in a browser.  It
    goes beside the decks: the same --out as build.

    \b
    Examples:
        deckgen preview && xdg-open decks_out/preview.html
        deckgen preview --source wfh --out wfh_decks
    """
    from generator.views.preview import write_preview

    out_path = out if out.lower().endswith(".html") else os.path.join(out, "preview.html")
    cards = _run(write_preview, source_dir, out_path)  # makes the folder, after the source is checked
    click.echo(f"{out_path}: {counted(cards, 'card')}")


# --- closing the loop: report and push (generator.connect) ---------------------------


@main.command()
@click.argument("exports", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True))
@_source_option
@click.option(
    "--html", "html_path", default=None, type=click.Path(dir_okay=False),
    help="Also write the report as a self-contained HTML page with charts (a new file or a previous report, "
    "outside the source folder).",
)
@click.option("--names", is_flag=True, help="Name students by their export's file name (else: student 1, 2, ...).")
def report(exports: tuple[str, ...], source_dir: str, html_path: str | None, names: bool) -> None:
    """Show which notes students find hard, from their exported decks, hardest first.

    Each EXPORT is one student's deck or collection exported from Anki with
    scheduling information (.apkg or .colpkg).  It is read with Anki's own
    code on this machine (needs the report extra:
    pip install 'deckgen-yaml[report]'); nothing is sent anywhere.  Each
    note is printed as file:line: item: part: figures, the figures added up
    over students (the median and the middle half).

    \b
    Example:
        deckgen report exports/*.apkg --html report.html
    """
    from generator.connect.report import make_report, report_lines

    if html_path:
        from generator.connect.page import check_page_path
        from generator.pipeline.config import default_lock_path

        _run(check_page_path, html_path, [*exports, default_lock_path(source_dir)], source_dir)
    result = _run(make_report, exports, source_dir, names=names)
    for message in result.skipped:  # file names and the exports' own text: shown, never obeyed by the terminal
        click.echo(printable(message), err=True)
    for line in report_lines(result):
        click.echo(printable(line))
    if html_path:
        from generator.connect.page import write_page

        _run(write_page, result, html_path, source_dir)
        click.echo(f"wrote {html_path}")


@main.command()
@click.option(
    "--out", "out_dir", default=DEFAULT_OUT, show_default=True, type=click.Path(file_okay=False),
    help="Folder of the built packages to send.",
)
@click.option("--url", default="http://127.0.0.1:8765", show_default=True, help="Where AnkiConnect listens.")
@click.option(
    "--key", default=None, envvar="DECKGEN_ANKICONNECT_KEY", show_envvar=True,
    help="AnkiConnect's API key, if its config sets one (the environment variable keeps it out of ps and history).",
)
@click.option(
    "--key-file", default=None, type=click.Path(dir_okay=False),
    help="Read the API key from the first line of this file instead.",
)
@_verbosity_options
def push(out_dir: str, url: str, key: str | None, key_file: str | None) -> None:
    """Send the built packages to a running Anki through the AnkiConnect add-on.

    Anki imports each package as File > Import would: edited notes are
    updated in place, studied cards keep their history.

    \b
    Examples:
        deckgen build -q && deckgen push
        DECKGEN_ANKICONNECT_KEY=... deckgen push
        deckgen push --key-file ~/.config/ankiconnect-key
    """
    from generator.connect.notices import Marked
    from generator.connect.push import push as push_packages
    from generator.connect.push import read_key

    if key_file is not None:
        given = click.get_current_context().get_parameter_source("key") is ParameterSource.COMMANDLINE
        if given:
            raise click.UsageError("--key and --key-file both give the key; give one of them")
        key = _run(read_key, key_file)  # the file wins over the environment variable: it was asked for here

    def skipped(path: str, why: str) -> None:
        click.echo(f"note: {printable(path)} {why}; not pushed", err=True)

    def marked(result: Marked) -> None:
        if not (result.marked or result.restored or result.dropped):
            return
        click.echo(
            f"removed from the source: {counted(result.marked, 'note')} marked and suspended"
            + (f", {counted(result.restored, 'note')} back in the source restored" if result.restored else "")
            + (f", {counted(result.dropped, 'note')} you never studied deleted" if result.dropped else "")
        )

    pushed = _run(
        push_packages, out_dir, url, key, lambda path: _say_each([f"imported {printable(path)}"]), skipped, marked
    )
    click.echo(f"Pushed {counted(len(pushed), 'package')} to Anki at {url}.")


def _terminated(signum: int, frame: object) -> NoReturn:
    raise SystemExit(128 + signum)


def run() -> None:
    """The ``deckgen`` command: :func:`main`, then out of the process without its objects freed one by one.

    A large build holds a hundred megabytes of small objects, which the
    interpreter's teardown would free one at a time (a quarter of a rebuild
    after one edit); the system takes the memory back at once.  Output is
    flushed first; ``main`` itself, which tests invoke, exits as Click does.
    mypy ends the same way.
    """
    code: object = 0
    # SIGTERM (kill, a CI timeout, systemd) ends a command as Ctrl-C does: what it holds is let go (its workers
    # stopped, its folders' locks released, a commit finished or undone), then it exits 128 + 15 as killed.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        main()
    except SystemExit as done:
        code = done.code
    if code is not None and not isinstance(code, int):  # sys.exit("message"): printed, as Python would
        print(code, file=sys.stderr)
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: as the interpreter exits when it cannot flush
        code = 120
    os._exit(code or 0)

"""The ``deckgen`` command line: parse, call one core function, report.

This is the only module that imports click.  Library errors
(:class:`~generator.errors.DeckgenError`) become ``click.ClickException``:
exit 1 with every problem on its own line; usage errors exit 2 (click's own).
"""

from __future__ import annotations

import gc
import os
import sys

import click
from click.core import ParameterSource

from generator import __version__
from generator.errors import ContentError, DeckgenError, counted, printable

DEFAULT_SOURCE = "cards_source"
DEFAULT_OUT = "decks_out"


class _ContentFailure(click.ClickException):
    """Prints each problem on its own line, then a count."""

    def __init__(self, error: ContentError) -> None:
        super().__init__(str(error))
        self.problems = error.problems
        self.writes = True  # False for a command that never writes: "nothing was written" would mislead

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        for problem in self.problems:
            click.echo(str(problem), err=True)
        written = "; nothing was written" if self.writes else ""
        click.echo(f"Error: {counted(len(self.problems), 'problem')} found{written}.", err=True)


def _run(function, *args, **kwargs):  # noqa: ANN001, ANN202 - thin adapter
    # Builds make many small, acyclic objects that live until the end: the cyclic
    # garbage collector would only re-scan that growing heap (about a fifth of a
    # 50,000-note build).  Restored afterwards, for callers such as CliRunner.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return function(*args, **kwargs)
    except ContentError as error:
        raise _ContentFailure(error) from None
    except DeckgenError as error:
        raise click.ClickException(str(error)) from None
    finally:
        if collecting:
            gc.enable()


_source_option = click.option(
    "--source",
    "source_dir",
    default=DEFAULT_SOURCE,
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder of YAML sources (deckgen.yaml and one file per topic).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deckgen")
def main() -> None:
    """Turn study content written in YAML into Anki decks.

    \b
    Example:
        deckgen check              # validate cards_source/
        deckgen build              # write decks_out/<topic>.apkg
    """


_strict_option = click.option(
    "--strict", is_flag=True, help="Treat card smells (warnings) as errors: exit 1, write nothing."
)


def _echo_warnings(warnings) -> None:  # noqa: ANN001 - a sequence of Problem
    for warning in warnings:
        click.echo(str(warning), err=True)


@main.command()
@_source_option
@_strict_option
def check(source_dir: str, strict: bool) -> None:
    """Validate the sources and print every problem as file:line: what is wrong.

    Card smells (an answer already on the front, a front too long for a
    phone, a cloze that hides a sentence, ...) are printed as warnings;
    --strict makes them errors.

    \b
    Example:
        deckgen check --strict --source cards_source
    """
    from generator.build.pipeline import check_cards

    try:
        checked = _run(check_cards, source_dir, strict)
    except _ContentFailure as failure:
        failure.writes = False
        raise
    source, notes = checked.source, checked.notes
    _echo_warnings(checked.warnings)
    items = sum(len(t.items) for t in source.topics)
    context = checked.context_items
    comparisons = sum(len(t.comparisons) for t in source.topics)
    cards = sum(n.cards for n in notes)
    unasked = f" ({context} context only)" if context else ""
    smells = f"; {counted(len(checked.warnings), 'warning')}" if checked.warnings else ""
    click.echo(
        f"{source_dir}: OK: {counted(len(source.topics), 'topic')}, {counted(items, 'item')}{unasked}, "
        f"{counted(comparisons, 'comparison')} -> {counted(len(notes), 'note')}, {counted(cards, 'card')}{smells}"
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


def _selection_options(command):  # noqa: ANN001, ANN202 - a decorator
    options = [
        click.option("--topic", "topics", multiple=True, metavar="ID", help="Only this topic (repeatable)."),
        click.option(
            "--perspective", "perspectives", multiple=True, metavar="ID", help="Only this perspective (repeatable)."
        ),
        click.option(
            "--kind", "kinds", multiple=True, type=click.Choice(["cloze", "comparison"]), help="Only this kind of note."
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
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _requests(source_dir: str, topics, perspectives, kinds, tags, deck_name, extra_tags, recipe):  # noqa: ANN001, ANN202
    """The requests maker and source folder for the selection options (None: the default build)."""
    from generator.build.pipeline import custom_decks, recipe_decks
    from generator.cards.selection import Selection
    from generator.source.loader import tag_problem

    for option, values in (("--tag", tags), ("--extra-tag", extra_tags)):
        for tag in values:  # genanki refuses a tag with a space, CSV would split it; the removed tag is deckgen's
            if problem := tag_problem(tag):
                raise click.BadParameter(problem, param_hint=f"'{option}'")
    selection = Selection(tuple(topics), tuple(perspectives), tuple(kinds), tuple(tags))
    if recipe:
        if selection or deck_name or extra_tags:
            raise click.UsageError("--recipe cannot be combined with selection options")
        from generator.cards.recipe import load_recipe

        loaded = _run(load_recipe, recipe)
        given = click.get_current_context().get_parameter_source("source_dir") is ParameterSource.COMMANDLINE
        if loaded.source and given and os.path.abspath(loaded.source) != os.path.abspath(source_dir):
            raise click.UsageError(
                f"--source {source_dir} and the recipe's source {loaded.source} differ; give one of them"
            )
        return recipe_decks(loaded), loaded.source or source_dir
    if extra_tags and not deck_name:
        raise click.UsageError("--extra-tag needs --deck-name")
    if selection or deck_name:
        return custom_decks(selection, deck_name, extra_tags), source_dir
    return None, source_dir


def _report_changes(report, verb: str, quiet: bool = False) -> None:  # noqa: ANN001 - a BuildReport
    for path in report.stale:
        click.echo(
            f"note: {printable(path)} is not built from this source (no such topic); delete it if it is old", err=True
        )
    if not quiet:
        for f in report.files:
            c = f.changes
            click.echo(
                f"{f.path}: {counted(f.notes, 'note')}, {counted(f.cards, 'card')} "
                f"({c.added} added, {c.updated} updated, "
                f"{c.unchanged} unchanged, {c.removed} removed)"
            )
    click.echo(
        f"{verb} {counted(len(report.files), 'deck')}: {counted(report.notes, 'note')}, "
        f"{counted(report.cards, 'card')}; "
        f"{report.total('added')} added, {report.total('updated')} updated, "
        f"{report.total('unchanged')} unchanged, {report.total('removed')} removed."
    )


@main.command()
@_source_option
@_out_option
@_lock_option
@_selection_options
@_strict_option
def plan(source_dir: str, out_dir: str, lock_path: str | None, strict: bool, **selection) -> None:  # noqa: ANN003
    """Show what a build would change, per deck, against the lock; write nothing.

    Counts are what a re-import into a collection that has the last build
    would do: notes added, updated, unchanged, and removed from the source.

    \b
    Example:
        deckgen plan --source cards_source
    """
    from generator.build.pipeline import plan as plan_build

    requests, source_dir = _requests(source_dir, **selection)
    report = _run(plan_build, source_dir, out_dir, lock_path, requests=requests, strict=strict)
    _echo_warnings(report.warnings)
    _report_changes(report, "Would build")


@main.command()
@_source_option
@_out_option
@_lock_option
@_selection_options
@click.option(
    "--format", "file_format", type=click.Choice(["apkg", "csv"]), default="apkg", show_default=True,
    help="Anki packages, or Anki's CSV text format (needs deckgen's note types in the collection).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary line (and warnings).")
@_strict_option
def build(
    source_dir: str, out_dir: str, lock_path: str | None, file_format: str, quiet: bool, strict: bool, **selection
) -> None:  # noqa: ANN003
    """Build one Anki package (.apkg) per topic, or custom decks, and update the lock.

    Nothing is written unless every source is valid; the packages and the
    lock are replaced atomically.  SOURCE_DATE_EPOCH, when set, is the time
    given to edited notes.

    \b
    Examples:
        deckgen build --source cards_source --out decks_out
        deckgen build --topic strengths --kind cloze --deck-name "Soc 101::Week 3"
        deckgen build --recipe course.yaml
        deckgen build --format csv
    """
    from generator.build.pipeline import build as build_decks

    requests, source_dir = _requests(source_dir, **selection)
    with _progress(quiet) as progress:
        report = _run(
            build_decks, source_dir, out_dir, lock_path=lock_path, requests=requests,
            file_format=file_format, progress=progress, strict=strict,
        )
    _echo_warnings(report.warnings)
    _report_changes(report, "Built", quiet)


class _progress:
    """click's progress bar on stderr, only on a terminal and not with --quiet."""

    def __init__(self, quiet: bool) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.bar = None

    def __enter__(self):  # noqa: ANN204
        return self.update if self.enabled else None

    def update(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="Building decks", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        if self.bar is not None:
            self.bar.__exit__(*exc)


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
    from generator.build.listing import inventory, render_tables

    data = _run(inventory, source_dir)
    if as_json:
        import json

        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        click.echo(render_tables(data))


@main.command()
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--title", default=None, help="The source's title  [default: from FOLDER]")
def new(folder: str, title: str | None) -> None:
    """Write a commented starter source into FOLDER; it builds as it is.

    \b
    Example:
        deckgen new my_course && deckgen build --source my_course --out my_decks
    """
    from generator.authoring.starter import write_starter

    written = _run(write_starter, folder, title)
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"Next: edit {folder}/*.yaml, then: deckgen check --source {folder}")


@main.command()
@click.argument("essay", type=click.Path(dir_okay=False, exists=True))
@click.option("--out", "folder", default=None, help="The source folder to write  [default: ESSAY's name + _source]")
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
    for path in _run(draft_source, essay, folder):
        click.echo(f"wrote {path}")
    click.echo(f"Next: read the DECIDE comments in {folder}/*.yaml, then: deckgen check --source {folder}")


@main.command()
@_source_option
@click.option(
    "--out", "out_path", default=f"{DEFAULT_OUT}/preview.html", show_default=True,
    type=click.Path(dir_okay=False), help="The HTML page to write.",
)
def preview(source_dir: str, out_path: str) -> None:
    """Write an HTML page showing every card's front and back as Anki renders them.

    The page is self-contained (the note types' CSS, no external files),
    grouped by deck, with a light/night switch; open it in a browser.

    \b
    Example:
        deckgen preview && xdg-open decks_out/preview.html
    """
    from generator.build.preview import write_preview

    cards = _run(write_preview, source_dir, out_path)  # makes the folder, after the source is checked
    click.echo(f"{out_path}: {counted(cards, 'card')}")

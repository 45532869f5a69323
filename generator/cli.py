"""The ``deckgen`` command line: parse, call one core function, report.

This is the only module that imports click.  Library errors
(:class:`~generator.errors.DeckgenError`) become ``click.ClickException``:
exit 1 with every problem on its own line; usage errors exit 2 (click's own).
"""

from __future__ import annotations

import click

from . import __version__
from .errors import ContentError, DeckgenError

DEFAULT_SOURCE = "cards_source"
DEFAULT_OUT = "decks_out"


class _ContentFailure(click.ClickException):
    """Prints each problem on its own line, then a count."""

    def __init__(self, error: ContentError) -> None:
        super().__init__(str(error))
        self.problems = error.problems

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        for problem in self.problems:
            click.echo(str(problem), err=True)
        count = len(self.problems)
        click.echo(f"Error: {count} problem{'s' if count != 1 else ''} found; nothing was written.", err=True)


def _run(function, *args, **kwargs):  # noqa: ANN001, ANN202 - thin adapter
    try:
        return function(*args, **kwargs)
    except ContentError as error:
        raise _ContentFailure(error) from None
    except DeckgenError as error:
        raise click.ClickException(str(error)) from None


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


@main.command()
@_source_option
def check(source_dir: str) -> None:
    """Validate the sources and print every problem as file:line: what is wrong.

    \b
    Example:
        deckgen check --source cards_source
    """
    from .build import check as check_source

    source, notes = _run(check_source, source_dir)
    items = sum(len(t.items) for t in source.topics)
    comparisons = sum(len(t.comparisons) for t in source.topics)
    cards = sum(n.cards for n in notes)
    click.echo(
        f"{source_dir}: OK: {len(source.topics)} topics, {items} items, {comparisons} comparisons "
        f"-> {len(notes)} notes, {cards} cards"
    )


_out_option = click.option(
    "--out",
    "out_dir",
    default=DEFAULT_OUT,
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to write the .apkg files into.",
)
_lock_option = click.option(
    "--lock",
    "lock_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="Build lock to read and update  [default: SOURCE/deckgen.lock]",
)


def _report_changes(report, verb: str) -> None:  # noqa: ANN001 - a BuildReport
    for f in report.files:
        c = f.changes
        click.echo(
            f"{f.path}: {f.notes} notes, {f.cards} cards ({c.added} added, {c.updated} updated, "
            f"{c.unchanged} unchanged, {c.removed} removed)"
        )
    click.echo(
        f"{verb} {len(report.files)} decks: {report.notes} notes, {report.cards} cards; "
        f"{report.total('added')} added, {report.total('updated')} updated, "
        f"{report.total('unchanged')} unchanged, {report.total('removed')} removed."
    )


@main.command()
@_source_option
@_out_option
@_lock_option
def plan(source_dir: str, out_dir: str, lock_path: str | None) -> None:
    """Show what a build would change, per deck, against the lock; write nothing.

    Counts are what a re-import into a collection that has the last build
    would do: notes added, updated, unchanged, and removed from the source.

    \b
    Example:
        deckgen plan --source cards_source
    """
    from .build import plan as plan_build

    _report_changes(_run(plan_build, source_dir, out_dir, lock_path), "Would build")


@main.command()
@_source_option
@_out_option
@_lock_option
def build(source_dir: str, out_dir: str, lock_path: str | None) -> None:
    """Build one Anki package (.apkg) per topic and update the lock.

    Nothing is written unless every source is valid; each package and the
    lock are replaced atomically.  SOURCE_DATE_EPOCH, when set, is the time
    given to edited notes.

    \b
    Example:
        deckgen build --source cards_source --out decks_out
    """
    from .build import build as build_decks

    _report_changes(_run(build_decks, source_dir, out_dir, lock_path=lock_path), "Built")

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


@main.command()
@_source_option
@click.option(
    "--out",
    "out_dir",
    default=DEFAULT_OUT,
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to write the .apkg files into.",
)
def build(source_dir: str, out_dir: str) -> None:
    """Build one Anki package (.apkg) per topic.

    Nothing is written unless every source is valid, and each package is
    replaced atomically.

    \b
    Example:
        deckgen build --source cards_source --out decks_out
    """
    from .build import build as build_decks

    report = _run(build_decks, source_dir, out_dir)
    for deck_file in report.files:
        click.echo(f"{deck_file.path}: {deck_file.notes} notes, {deck_file.cards} cards")
    click.echo(f"Built {len(report.files)} decks: {report.notes} notes, {report.cards} cards.")

"""The report as one self-contained HTML page: inline SVG bar charts, no external file, light and night.

Every chart is a horizontal bar per note, topic or kind of card: the bar is the
median share of "Again" answers over students, the whisker spans the middle
half of the students.  Colours come from CSS variables that follow the
reader's ``prefers-color-scheme``.
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from generator.connect.figures import Group
from generator.connect.report import Report, Row, figures_text, percent
from generator.errors import DeckgenError, counted, printable
from generator.pipeline.journal import commit, make_folders, recover, remove_folders

CHART_BARS = 15
"""Notes in the chart of the hardest ones (the table below it lists more)."""
TABLE_ROWS = 200
"""Notes in the table of the hardest ones (the terminal report lists every one)."""
_WIDTH, _LABEL, _VALUE, _ROW, _TOP = 1040, 360, 60, 26, 22
"""The charts' geometry in pixels: width, label column, value column, row height, axis band."""

_CSS = """
:root { color-scheme: light dark; --bg: #fdfdfc; --fg: #1f2328; --muted: #59636e; --grid: #d8dee4;
  --bar: #d4603a; --band: #f3f4f6; --line: #e5e7eb; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #16181d; --fg: #e6e8eb; --muted: #9aa4b0; --grid: #343a44;
    --bar: #f08a5d; --band: #1f232b; --line: #2c313a; }
}
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.15em; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
p { margin: 4px 0 10px; }
.muted, caption { color: var(--muted); }
.note { background: var(--band); border-left: 3px solid var(--bar); padding: 6px 10px; }
svg { width: 100%; height: auto; display: block; }
svg text { fill: var(--fg); font: 13px system-ui, -apple-system, "Segoe UI", sans-serif; }
svg .axis { fill: var(--muted); font-size: 11px; }
svg .grid { stroke: var(--grid); stroke-width: 1; }
svg .bar { fill: var(--bar); }
svg .whisker { stroke: var(--fg); stroke-width: 1.5; }
.table { overflow-x: auto; margin-top: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
caption { text-align: left; padding-bottom: 4px; }
th, td { text-align: left; padding: 4px 8px 4px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; }
td.where { white-space: nowrap; }
td .part { display: block; color: var(--muted); font-size: 12px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
"""


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: its label, the figures it draws, and the full text shown on hover."""

    label: str
    group: Group
    title: str = ""


REPORT_MARK = "<!DOCTYPE html>\n<!-- deckgen report: a page deckgen may replace -->\n"
"""The first bytes of every page deckgen writes, and of the only existing files ``--html`` replaces.

A file that does not begin so is someone's work (a source file, notes, a
page of another tool): the report never overwrites it."""


def check_page_path(path: str, keep: Sequence[str], source_dir: str | None = None) -> None:
    """Refuse a page *path* that is not a new file or a previous report, or is in the source or in *keep*.

    *keep* are the files the report reads (the exports, the lock); any file
    inside *source_dir* is the source's, and a new file there could become
    one (``--html src/new.yaml``).
    """
    if os.path.lexists(path) and not os.path.isfile(path) or os.path.islink(path):
        raise DeckgenError(f"{printable(path)}: exists and is not a regular file; give the page another path")
    for other in keep:
        if os.path.exists(path) and os.path.exists(other) and os.path.samefile(path, other):
            raise DeckgenError(
                f"{printable(path)}: is {printable(other)}, which the report reads; give the page another path"
            )
    if source_dir is not None and _inside(path, source_dir):
        raise DeckgenError(
            f"{printable(path)}: is inside the source folder {printable(source_dir)}; give the page a path outside it"
        )
    if os.path.exists(path) and not _is_report(path):
        raise DeckgenError(
            f"{printable(path)}: exists and is not a page deckgen report wrote; give the page another path "
            "(or delete the file)"
        )


def _inside(path: str, folder: str) -> bool:
    """Whether *path* (which need not exist) is in *folder* or below, links resolved."""
    where = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    folder = os.path.realpath(folder)
    return os.path.commonpath([where, folder]) == folder


def _is_report(path: str) -> bool:
    """Whether the file at *path* begins with :data:`REPORT_MARK` (a page deckgen wrote)."""
    mark = REPORT_MARK.encode("utf-8")
    try:
        with open(path, "rb") as handle:
            return handle.read(len(mark)) == mark
    except OSError:
        return False


def write_page(report: Report, path: str, source_dir: str | None = None) -> None:
    """Write *report* as a self-contained HTML page to *path* (atomically; folders made as needed).

    Refused as :func:`check_page_path` refuses it: only a new file or a previous report is replaced.
    """
    data = page(report).encode("utf-8")
    check_page_path(path, (), source_dir)
    folder = os.path.dirname(os.path.abspath(path))
    recover(folder)
    created: list[str] = []
    try:
        make_folders(os.path.dirname(path), created)
        commit({path: data}, folder)
    except OSError as error:
        remove_folders(created)
        raise DeckgenError(f"cannot write {path}: {error.strerror or error}") from None


def page(report: Report) -> str:
    """The whole page."""
    sections = [_hardest(report), _named("By topic", report.topics), _named("By kind of card", report.kinds)]
    sections.append(_every_note(report.rows))
    if report.gone:
        sections.append(_gone(report.gone))
    if report.by_student:
        sections.append(_named("By student", report.by_student))
    return (
        f'{REPORT_MARK}<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Which cards are hard</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>Which cards are hard</h1>\n{_intro(report)}\n{''.join(sections)}</main>\n</body>\n</html>\n"
    )


def _intro(report: Report) -> str:
    """The summary under the title, and a line per export that could not count."""
    reviews = sum(row.figures.answers for row in report.rows + report.gone)
    summary = (
        f"<p>{counted(len(report.students), 'student')} &middot; {len(report.rows)} of "
        f"{counted(report.source_notes, 'note')} studied &middot; {counted(reviews, 'review')}</p>\n"
        '<p class="muted">Each bar is the median, over students, of the share of a student\'s answers that '
        "were <b>Again</b>; the whisker spans the middle half of the students. Hardest first.</p>\n"
    )
    return summary + "".join(f'<p class="note">{html.escape(message)}</p>\n' for message in report.skipped)


def _hardest(report: Report) -> str:
    """The chart of the hardest notes."""
    bars = [Bar(_row_label(row), row.figures, _row_title(row)) for row in report.rows[:CHART_BARS]]
    return f"<section>\n<h2>Hardest notes</h2>\n{bar_chart(bars, 'The hardest notes')}\n</section>\n"


def _every_note(rows: Sequence[Row]) -> str:
    """The table of the studied notes (the first :data:`TABLE_ROWS`), with their file and line."""
    more = len(rows) - TABLE_ROWS
    rest = f'<p class="muted">and {counted(more, "more note")}: see the terminal report.</p>\n' if more > 0 else ""
    title = "Every studied note" if more <= 0 else f"The {TABLE_ROWS} hardest notes"
    return f"<section>\n<h2>{title}</h2>\n{_table(rows[:TABLE_ROWS], 'Hardest first')}{rest}</section>\n"


def _gone(rows: Sequence[Row]) -> str:
    """Notes the students studied that the source no longer has."""
    return (
        "<section>\n<h2>No longer in the source</h2>\n"
        '<p class="muted">Students still study these notes; the source (or the lock, which points at '
        "them) says where they were.</p>\n"
        f"{_table(rows, counted(len(rows), 'note'))}</section>\n"
    )


def _named(title: str, named: Sequence[tuple[str, Group]]) -> str:
    """A section with one bar per named group."""
    bars = [Bar(name, group, f"{name}: {figures_text(group)}") for name, group in named]
    return f"<section>\n<h2>{html.escape(title)}</h2>\n{bar_chart(bars, title)}\n</section>\n"


def _row_label(row: Row) -> str:
    """A chart label for a note: its item and part."""
    return f"{row.place.item} · {row.place.part}" if row.place.part else row.place.item


def _row_title(row: Row) -> str:
    """The hover text of a note's bar: where it is and every figure."""
    return f"{row.place}: {_row_label(row)}: {figures_text(row.figures)}"


# --- charts and tables -------------------------------------------------------------


def bar_chart(bars: Sequence[Bar], label: str) -> str:
    """A horizontal bar chart (inline SVG) of the median "Again" share, with the middle half as a whisker."""
    if not bars:
        return '<p class="muted">Nothing studied.</p>'
    scale = _scale(bar.group.again.high for bar in bars)
    height = _TOP + _ROW * len(bars) + 4
    body = "".join(_grid(scale, height)) + "".join(_bar(i, bar, scale) for i, bar in enumerate(bars))
    return (
        f'<svg viewBox="0 0 {_WIDTH} {height}" role="img" aria-label="{html.escape(label, quote=True)}" '
        f'xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def _scale(highs: Iterable[float]) -> float:
    """The share at the right end of the axis: the largest whisker, rounded up to a tenth (at least 10%)."""
    return max(0.1, math.ceil(max(highs) * 10 - 1e-9) / 10)


def _grid(scale: float, height: int) -> Iterable[str]:
    """Vertical grid lines with their percentages, every tenth (every fifth of the axis beyond 50%)."""
    step = 0.1 if scale <= 0.5 else 0.2
    for index in range(int(round(scale / step)) + 1):
        x = _x(index * step, scale)
        yield f'<line class="grid" x1="{x:.1f}" y1="{_TOP - 4}" x2="{x:.1f}" y2="{height}"/>'
        yield f'<text class="axis" x="{x:.1f}" y="{_TOP - 8}" text-anchor="middle">{percent(index * step)}</text>'


def _x(share: float, scale: float) -> float:
    """The x coordinate of a share on the axis."""
    return _LABEL + share / scale * (_WIDTH - _LABEL - _VALUE)


def _bar(index: int, bar: Bar, scale: float) -> str:
    """One row of a chart: label, bar, whisker and value."""
    again = bar.group.again
    top = _TOP + index * _ROW
    middle = top + _ROW / 2
    low, high = _x(again.low, scale), _x(again.high, scale)
    whisker = (
        f'<line class="whisker" x1="{low:.1f}" y1="{middle}" x2="{high:.1f}" y2="{middle}"/>'
        f'<line class="whisker" x1="{low:.1f}" y1="{middle - 5}" x2="{low:.1f}" y2="{middle + 5}"/>'
        f'<line class="whisker" x1="{high:.1f}" y1="{middle - 5}" x2="{high:.1f}" y2="{middle + 5}"/>'
        if again.students > 1 else ""
    )
    return (
        f"<g><title>{html.escape(bar.title or bar.label)}</title>"
        f'<text x="{_LABEL - 8}" y="{middle + 4}" text-anchor="end">{html.escape(_short(bar.label))}</text>'
        f'<rect class="bar" x="{_LABEL}" y="{top + 5}" width="{_x(again.median, scale) - _LABEL:.1f}" '
        f'height="{_ROW - 10}" rx="2"/>{whisker}'
        f'<text x="{_WIDTH - _VALUE + 8}" y="{middle + 4}">{percent(again.median)}</text></g>'
    )


def _short(label: str, limit: int = 46) -> str:
    """A label that fits the label column (the whole one is the bar's hover text)."""
    return label if len(label) <= limit else label[: limit - 1] + "…"


_COLUMNS = ("where", "item", "topic", "again", "students", "reviews", "lapses", "difficulty", "ease", "leech")
_NUMERIC = {"again", "students", "reviews", "lapses", "difficulty", "ease", "leech"}


def _table(rows: Sequence[Row], caption: str) -> str:
    """A table of notes with every figure."""
    head = "".join(f"<th{_cell_class(name)}>{name}</th>" for name in _COLUMNS)
    body = "".join(_table_row(row) for row in rows)
    caption = f"<caption>{html.escape(caption)}</caption>"
    return f'<div class="table"><table>\n{caption}\n<tr>{head}</tr>\n{body}</table></div>\n'


def _cell_class(column: str) -> str:
    """The class attribute of a column's cells: numbers right-aligned, places on one line."""
    if column == "where":
        return ' class="where"'
    return ' class="num"' if column in _NUMERIC else ""


def _table_row(row: Row) -> str:
    """One note of a table."""
    group, again = row.figures, row.figures.again
    spread = f"[{round(again.low * 100)}–{percent(again.high)}]"
    middle = f' <span class="muted">{spread}</span>' if again.students > 1 else ""
    cells = (
        f"<code>{html.escape(str(row.place))}</code>", _item_cell(row), html.escape(row.place.topic),
        f"{percent(again.median)}{middle}", str(again.students), str(group.answers), str(group.lapses),
        _optional(group.difficulty), _optional(group.ease), str(group.leeches or ""),
    )
    return "<tr>" + "".join(f"<td{_cell_class(c)}>{x}</td>" for c, x in zip(_COLUMNS, cells, strict=True)) + "</tr>\n"


def _item_cell(row: Row) -> str:
    """The item, and under it the part of the item the note asks about."""
    part = f'<span class="part">{html.escape(row.place.part)}</span>' if row.place.part else ""
    return f"{html.escape(row.place.item)}{part}"


def _optional(share: float | None) -> str:
    """A percentage, or a dash when no student's cards have the figure."""
    return "–" if share is None else percent(share)

"""What a source holds: perspectives, topics, items, and notes and cards per deck."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from generator.cards.notes import NoteSpec
from generator.pipeline.pipeline import check
from generator.source.content import Comparison, Item, Topic


def inventory(source_dir: str) -> dict[str, Any]:
    """A JSON-ready description of the source in *source_dir*."""
    source, notes = check(source_dir)
    notes_per_item = Counter(note.item_id for note in notes)
    return {
        "source": {"id": source.id, "title": source.title, "deck": source.deck, "folder": source_dir},
        "perspectives": [{"id": p.id, "name": p.name} for p in source.perspectives],
        "topics": [_topic_entry(t) for t in source.topics],
        "items": [_item_entry(t, entry, notes_per_item) for t in source.topics for entry in _entries(t)],
        "decks": _deck_entries(notes),
    }


def _topic_entry(topic: Topic) -> dict[str, Any]:
    return {
        "id": topic.id,
        "name": topic.name,
        "file": topic.file,
        "items": len(topic.items),
        "comparisons": len(topic.comparisons),
    }


def _entries(topic: Topic) -> tuple[Item | Comparison, ...]:
    """The topic's items, then its comparisons: what a note's group names."""
    return (*topic.items, *topic.comparisons)


def _item_entry(topic: Topic, entry: Item | Comparison, notes_per_item: Mapping[str, int]) -> dict[str, Any]:
    perspective, title = (entry.perspective, entry.label) if isinstance(entry, Item) else (None, entry.dimension)
    return {
        "id": entry.id,
        "topic": topic.id,
        "perspective": perspective,
        "title": title,
        "notes": notes_per_item.get(entry.id, 0),
    }


def _deck_entries(notes: Iterable[NoteSpec]) -> list[dict[str, Any]]:
    """Notes and cards per deck, by deck name."""
    decks: dict[str, dict[str, int]] = {}
    for note in notes:
        entry = decks.setdefault(note.deck, {"notes": 0, "cards": 0})
        entry["notes"] += 1
        entry["cards"] += note.cards
    return [{"name": name, **counts} for name, counts in sorted(decks.items())]


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """A plain-text table with aligned columns (numbers right-aligned)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    numeric = [all(isinstance(row[i], int) for row in rows) and rows != [] for i in range(len(headers))]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True)
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def render_tables(data: dict[str, Any]) -> str:
    """The inventory as four tables: perspectives, topics, items, decks."""
    decks = data["decks"]
    total = [["total", sum(d["notes"] for d in decks), sum(d["cards"] for d in decks)]]
    parts = [
        f"{data['source']['title']} ({data['source']['id']})",
        table(["perspective", "name"], [[p["id"], p["name"]] for p in data["perspectives"]]),
        table(
            ["topic", "name", "items", "comparisons"],
            [[t["id"], t["name"], t["items"], t["comparisons"]] for t in data["topics"]],
        ),
        table(
            ["item", "topic", "perspective", "title", "notes"],
            [[i["id"], i["topic"], i["perspective"] or "-", i["title"], i["notes"]] for i in data["items"]],
        ),
        table(["deck", "notes", "cards"], [[d["name"], d["notes"], d["cards"]] for d in decks] + total),
    ]
    return "\n\n".join(parts)

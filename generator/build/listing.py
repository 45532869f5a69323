"""What a source holds: perspectives, topics, items, and notes and cards per deck."""

from __future__ import annotations

from typing import Any

from generator.build.pipeline import check
from generator.source.content import Item


def inventory(source_dir: str) -> dict[str, Any]:
    """A JSON-ready description of the source in *source_dir*."""
    source, notes = check(source_dir)
    decks: dict[str, dict[str, int]] = {}
    for note in notes:
        entry = decks.setdefault(note.deck, {"notes": 0, "cards": 0})
        entry["notes"] += 1
        entry["cards"] += note.cards
    notes_per_item: dict[str, int] = {}
    for note in notes:
        notes_per_item[note.group] = notes_per_item.get(note.group, 0) + 1
    return {
        "source": {"id": source.id, "title": source.title, "deck": source.deck, "folder": source_dir},
        "perspectives": [{"id": p.id, "name": p.name} for p in source.perspectives],
        "topics": [
            {
                "id": t.id,
                "name": t.name,
                "file": t.file,
                "items": len(t.items),
                "comparisons": len(t.comparisons),
            }
            for t in source.topics
        ],
        "items": [
            {
                "id": entry.id,
                "topic": t.id,
                "perspective": getattr(entry, "perspective", None),
                "title": entry.label if isinstance(entry, Item) else entry.dimension,
                "notes": notes_per_item.get(entry.id, 0),
            }
            for t in source.topics
            for entry in (*t.items, *t.comparisons)
        ],
        "decks": [{"name": name, **counts} for name, counts in sorted(decks.items())],
    }


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

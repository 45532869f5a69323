"""Helpers for proving decks in the real Anki client (the official ``anki`` package).

Nothing here reads a package's SQLite: packages go through Anki's importer and
cards through Anki's renderer, as a student's desktop app would.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from anki.collection import Collection, ImportAnkiPackageRequest

_TAGS = re.compile(r"<[^>]*>")
_STYLE = re.compile(r"<style\b.*?</style>", re.S | re.I)


def visible_text(rendered: str) -> str:
    """What a student reads: tags removed, entities decoded, whitespace collapsed."""
    text = html.unescape(_TAGS.sub(" ", _STYLE.sub("", rendered)))
    return " ".join(text.replace("\xa0", " ").split())


def open_collection(folder: Path) -> Collection:
    """A fresh, empty collection in *folder*."""
    folder.mkdir(parents=True, exist_ok=True)
    return Collection(str(folder / "collection.anki2"))


def import_package(col: Collection, path: Path):  # noqa: ANN201 - protobuf log
    """Import *path* with the options Anki's import dialog starts with; return Anki's log."""
    options = col._backend.get_import_anki_package_presets()
    response = col.import_anki_package(
        ImportAnkiPackageRequest(package_path=str(path), options=options)
    )
    col.models._clear_cache()  # the importer changes note types behind the Python cache
    return response.log


@dataclass(frozen=True)
class RenderedCard:
    """One card as Anki renders it."""

    card_id: int
    note_id: int
    guid: str
    note_type: str
    template: str
    deck: str
    question: str
    answer: str

    @property
    def question_text(self) -> str:
        return visible_text(self.question)

    @property
    def answer_text(self) -> str:
        return visible_text(self.answer)


def rendered_cards(col: Collection) -> list[RenderedCard]:
    """Every card of the collection, rendered by Anki."""
    cards = []
    for card_id in col.find_cards(""):
        card = col.get_card(card_id)
        note = card.note()
        output = card.render_output(reload=True)
        cards.append(
            RenderedCard(
                card_id=int(card.id),
                note_id=int(note.id),
                guid=note.guid,
                note_type=note.note_type()["name"],
                template=card.template()["name"],
                deck=col.decks.name(card.did),
                question=output.question_text,
                answer=output.answer_text,
            )
        )
    return cards


def study_everything(col: Collection) -> int:
    """Answer every card once ("Good") with Anki's v3 scheduler; returns cards answered.

    This writes real review-log rows and intervals, as a student's first pass does.
    """
    from anki.cards import Card
    from anki.scheduler_pb2 import CardAnswer

    for config in col.decks.all_config():
        config["new"]["perDay"] = 9999
        config["rev"]["perDay"] = 9999
        col.decks.update_config(config)
    answered: set[int] = set()
    for deck in col.decks.all_names_and_ids():
        col.decks.select(deck.id)
        while True:
            queued = col.sched.get_queued_cards(fetch_limit=1000)
            fresh = [q for q in queued.cards if int(q.card.id) not in answered]
            if not fresh:
                break
            for queued_card in fresh:
                card = Card(col)
                card._load_from_backend_card(queued_card.card)
                card.start_timer()
                col.sched.answer_card(
                    col.sched.build_answer(card=card, states=queued_card.states, rating=CardAnswer.GOOD)
                )
                answered.add(int(card.id))
    return len(answered)


_CLOZE_ANSWER = re.compile(r'<span class="cloze"[^>]*>(.*?)</span>', re.S)


def asked_fact(card: RenderedCard) -> str:
    """What a card asks: the hidden text of a cloze, or the answer of a comparison template."""
    if card.note_type.endswith("Cloze"):
        return " | ".join(visible_text(m) for m in _CLOZE_ANSWER.findall(card.answer))
    back = card.answer.split('<hr id="answer">', 1)[-1]
    return card.template + ": " + visible_text(back.split('<div class="extra">', 1)[0])

"""Every rendered card of a cards.jsonl (anki_check.py inspect --cards-out) as numbered FRONT/BACK plain text.

For a blind read: the reader gets what a student sees, without the HTML.
A cloze back repeats the front with the answer filled in; only what the back
adds is shown after "BACK:" besides the filled-in text.

    python examples/cards_as_text.py cards.jsonl > cards.txt
"""

from __future__ import annotations

import html
import json
import re
import sys

_BLOCK = re.compile(r"</?(?:div|p|br|li|ul|ol|h\d)[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")


def plain(fragment: str) -> str:
    """Card HTML as lines of text, as a student reads them."""
    text = html.unescape(_TAG.sub("", _BLOCK.sub("\n", fragment)))
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def main(path: str) -> None:
    with open(path, encoding="utf-8") as handle:
        cards = [json.loads(line) for line in handle if line.strip()]
    for number, card in enumerate(cards, 1):
        print(f"#{number} [{card['notetype']} / {card['template']}] deck: {card['deck']}")
        print("FRONT:\n" + plain(card["question"]))
        print("BACK:\n" + plain(card["answer"]))
        print()


if __name__ == "__main__":
    main(sys.argv[1])

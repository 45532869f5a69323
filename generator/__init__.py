"""deckgen: keep Anki flashcard decks as source code (YAML in, .apkg out)."""

__version__ = "0.1.0"

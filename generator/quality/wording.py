"""Smells of a front's wording: what it says besides the answer, or fails to say.

The leak smell (:mod:`generator.quality.smells`) counts the asked words that a
front shows as they are.  A student reads an answer off a front in other ways
too, and the draft of a real chapter made each of them:

- **a title that paraphrases its cloze**: the title (or the context line)
  shows the asked words in another form ("Typicality" above "very
  [atypical]", "Differentiation" above "more [differentiated]");
- **a front that is only a subject and [...]**: "Traditionally, it has been
  assumed that categories are [...]." or "It is called [...]": nothing but a
  subject and a linking verb, so many answers fit and none is retrieved;
- **a front that opens with a pointer at a sentence it does not show**: a
  key term's card shows its title and the sentence holding the term; "It
  encrypts even its headers, so that middleboxes cannot [...] it." alone
  leaves the student to guess what "it" is (a first sentence points at the
  title, which the front shows: no smell);
- **a which-perspective cue that names its perspective's typical setting**:
  the cue uses a word that only that perspective's own headings use (its
  items' titles, its section headings), as "Open-plan noise" does beside an
  office's "Open-Plan Offices" and a hybrid's "Flexible Schedules": the student
  matches the word to the heading, not the idea to the perspective.

Each is located at its note, like every smell, so ``watch`` shows it on the
card.  Words are compared as :mod:`generator.quality.crosscard` compares them
(function words aside, a crude stem).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from generator.cards.kinds import KINDS
from generator.cards.notes import Faced, NoteSpec
from generator.errors import Problem
from generator.quality.reading import plain
from generator.source.content import Source
from generator.source.words import FUNCTION_WORDS, VOCABULARY, WORD, content_stems, lower_words, singular, stem

PARAPHRASE_SHARE = 0.5
"""A title paraphrases a cloze when it shows at least this share of the asked words, one of them in another form."""
MIN_FORM = 5
"""Two forms of one word share a beginning of at least this many letters ("typical-ity", "a-typical")."""
FORM_SHARE = 0.75
"""... and that beginning is at least this share of the shorter word, so "present" and "presentation" differ."""
_NEGATIONS = ("non", "dis", "mis", "un", "in", "im", "ir", "il", "an", "a")
"""Prefixes that turn a word into its opposite: "atypical" is read off "typicality" as easily as "typical"."""
MAX_SUBJECT_WORDS = 1
"""A front that shows at most this many words before "is [...]" (a bare noun, a pronoun) says only its subject.

"The strongest individuals are [...]" (two words: which individuals) says a claim's subject and what it is about."""

_TAG = re.compile(r"<[^>]+>")
_TITLE = re.compile(r'<div class="title">(.*?)</div>', re.S)
_CLOZE = re.compile(r"\{\{c\d+::.*?\}\}", re.S)
_BLANK = "\x00"
_LINK = re.compile(
    r"(?:\b(?:is|are|was|were|be|been|being|become|becomes|remain|remains|seem|seems)"
    r"(?:\s+(?:a|an|the|very|more|most|less|quite|so|rather|often|usually|generally|typically))*"
    r"|\b(?:called|known\s+as|referred\s+to\s+as|termed|named|dubbed|labell?ed|defined\s+as)"
    r"(?:\s+(?:a|an|the))?)\s*$",
    re.I,
)
"""The end of a clause that only links its subject to the blank: "categories are", "is known as the"."""
_FRAMING = frozenset(
    """traditionally historically generally usually often commonly typically widely long assumed thought believed
    said argued claimed held considered seen viewed taken accepted""".split()
)
"""Words that frame a claim ("Traditionally, it has been assumed that ..."): they say nothing the blank is."""
_Settings = tuple[dict[str, dict[str, set[str]]], dict[str, set[str]]]
"""Per perspective: the words of its headings (with the items or headings using each), and every word said of it."""
SettingLookup = tuple[str, str, tuple[str, ...]]
"""A which-perspective cue's look-up in the whole source's setting words: its perspective, item and words.

What a topic's warning of the kind depends on besides its own file: a
rebuild hashes the answers to a reused topic's look-ups (:func:`setting_answers`).
"""


def wording_smells(
    source: Source, faced: Faced, naming: Mapping[str, str]
) -> tuple[list[Problem], tuple[SettingLookup, ...]]:
    """The three smells above for one topic's notes (*faced*, each with its faces); *naming* maps a
    perspective's stems to its name.  With them, the look-ups its which-perspective cues made."""
    problems: list[Problem] = []
    lookups: list[SettingLookup] = []
    settings = _source_settings(source, naming)
    titles: dict[str, _Titled] = {}  # an item's cards share its title: read once, kept while this topic is
    for note, faces in faced:
        kind = KINDS[note.note_type]
        for face in faces:
            if face.asks_perspective:
                lookup = _lookup(source, note, face.cue, face.question)
                problems += _names_setting(source, note, lookup, settings)
                if lookup:
                    lookups.append(lookup)
            elif kind.hides_in_item_text:
                # The text read once for the three: its titles, and the rest (what _TITLE.sub(" ", text) leaves)
                parts = _TITLE.split(note.field("Text"))
                untitled = " ".join(parts[0::2])
                problems += _paraphrased(note, face.answer, titles, parts[1::2])
                problems += _only_subject(note, untitled)
                problems += _points_back(source, note, untitled)
    return problems, tuple(lookups)


# --- a title that paraphrases its cloze ---------------------------------------------------


def _paraphrased(note: NoteSpec, answer: str, titles: dict[str, _Titled], shown: Sequence[str]) -> Iterable[Problem]:
    """The cloze's title or context line shows the asked words, one at least in another form.

    *titles* holds the titles (and context lines) read so far, as :func:`_title_words` reads them; *shown*
    is the titles of the note's text (``_TITLE.findall``).
    """
    if note.part == "title":
        return  # the title is what it asks: hidden on its front
    text = note.field("Text")
    titled = " ".join((*shown, note.field(KINDS[note.note_type].context_field)))
    if "<" in titled:  # most titles and context lines are plain text
        titled = _TAG.sub(" ", titled)
    read = titles.get(titled) or titles.setdefault(titled, _title_words(titled))
    formed = _formed(answer, read, lambda: _TAG.sub(" ", _CLOZE.sub(" ", text)))
    if formed:
        pairs = ", ".join(f"{other!r} for {word!r}" for word, other in formed)
        yield _warn(
            note,
            f"the title or context line paraphrases the cloze ({pairs}): the student reads the answer off it; "
            "retitle the item, or ask a term the title does not name",
        )


def paraphrased(answer: str, title: str, rest: str = "") -> list[tuple[str, str]]:
    """(asked word, title word) pairs if *title* paraphrases *answer*: with *rest* of the front, it shows
    :data:`PARAPHRASE_SHARE` of the asked words, one at least in another form; else [].

    Shown as they are, they are the leak smell's: [].
    """
    return _formed(answer, _title_words(title), lambda: rest)


def _formed(answer: str, title: _Titled, rest: Callable[[], str]) -> list[tuple[str, str]]:
    """:func:`paraphrased`, the title read (:func:`_title_words`), reading the rest of the front only where a
    title word is another form of an asked one: most fronts have none, and the rest is the longest text of a card."""
    asked = _words(answer)
    if not asked:
        return []
    titled, beginnings = title
    # Two forms share their first MIN_FORM letters: only an asked word whose beginning a title
    # word shares is compared pair by pair, so a long title costs one set look-up per word.
    maybe = [word for word in asked - titled if _begins_as(word, beginnings)]
    if not maybe:
        return []
    front = titled | _words(rest())
    if len(asked & front) >= PARAPHRASE_SHARE * len(asked):
        return []
    unshown = [word for word in maybe if word not in front]
    formed = {(word, other) for word in unshown for other in titled if forms_of_one_word(word, other)}
    if formed and len(asked & front) + len({w for w, _ in formed}) >= PARAPHRASE_SHARE * len(asked):
        return sorted(formed)
    return []


_Titled = tuple[frozenset[str], set[str]]
"""A title's content words and their beginnings (:func:`_title_words`)."""


def _title_words(title: str) -> _Titled:
    """The content words of a title (:func:`_words`) and their beginnings (:func:`_beginnings`)."""
    words = frozenset(_words(title))
    return words, _beginnings(words)


def _words(text: str) -> set[str]:
    """The content words of *text*, lowercased, a plural 's' dropped."""
    return set(map(singular, set(lower_words(text)) - FUNCTION_WORDS))


def forms_of_one_word(one: str, other: str) -> bool:
    """True if *one* and *other* are two forms of one word ("differentiated", "differentiation"; "atypical")."""
    if one == other:
        return False
    return any(_shares_beginning(a, b) for a in _bases(one) for b in _bases(other))


@functools.lru_cache(maxsize=VOCABULARY)  # a source's vocabulary is met again on card after card
def _bases(word: str) -> tuple[str, ...]:
    """*word*, without a negating prefix (if what is left is still a word's length), and a final 'y' as 'i'.

    "fuzzy" is read off "fuzziness": English writes the 'y' of a word as 'i' before an ending.  A tuple, each
    base once: most words are their only base, and a set of one costs four times its memory in every worker.
    """
    if not word.startswith(_NEGATIONS) and not word.endswith("y"):
        return (word,)  # most words, and on a source of rare words most are met once: no set made
    found = {word} | {word[len(p) :] for p in _NEGATIONS if word.startswith(p) and len(word) - len(p) >= MIN_FORM}
    return tuple(found | {w[:-1] + "i" for w in found if w.endswith("y")})


def _beginnings(words: Iterable[str]) -> set[str]:
    """The first :data:`MIN_FORM` letters of every base of *words*: two forms of one word share one."""
    return {base[:MIN_FORM] for word in words for base in _bases(word) if len(base) >= MIN_FORM}


def _begins_as(word: str, beginnings: set[str]) -> bool:
    """True if one of *word*'s :func:`_beginnings` is in *beginnings* (no set of them made: most words are
    asked once)."""
    return any(len(base) >= MIN_FORM and base[:MIN_FORM] in beginnings for base in _bases(word))


def _shares_beginning(one: str, other: str) -> bool:
    common = 0
    for a, b in zip(one, other, strict=False):
        if a != b:
            break
        common += 1
    return common >= MIN_FORM and common >= FORM_SHARE * min(len(one), len(other))


# --- a front that is only a subject and [...] ---------------------------------------------


def _only_subject(note: NoteSpec, untitled: str) -> Iterable[Problem]:
    """The front's text (title aside: *untitled*) ends in the blank after at most a subject, framing words and a
    linking verb."""
    text = _TAG.sub(" ", _CLOZE.sub(_BLANK, untitled))
    _, blank, after = text.partition(_BLANK)
    if not blank or _BLANK in after or WORD.search(after):
        return  # most fronts say more after the blank (spaces aside, the same words and blanks as below)
    before, blank, after = " ".join(text.split()).partition(_BLANK)
    if blank and _BLANK not in after and only_subject(before, after):
        shown = f"{before.strip()} [...]{after.strip()}"
        yield _warn(
            note,
            f"the front says only a subject and the blank ({shown!r}): many answers fit it; "
            "write into the sentence what the answer means or does, or ask a term of a sentence that says more",
        )


_POINTER = re.compile(
    r"(?:(?:first|second|third|next|then|finally|also|thus),\s+)?"  # "First, it provides …": a step of the last
    r"(?P<word>(?:it|they|he|she|its|their|his|her)\b"
    r"|(?:this|these|that|those)(?=\s+(?:is|are|was|were|has|have|had|can|could|will|would|may|might|must|means?"
    r"|meant|shows?|showed|makes?|made|gives?|gave|provides?|leads?|led)\b))",
    re.I,
)
"""A sentence's opening that points at something said before it: a pronoun ("It encrypts …", "They found …"), or
a demonstrative standing for one ("This means …"); "This preference is …" names what it points at."""
_ASKED = re.compile(r"\{\{c\d+::(.*?)\}\}", re.S)


def opens_with_pointer(sentence: str) -> str | None:
    """The word a plain *sentence* opens with if it points at something said before it (see :data:`_POINTER`)."""
    found = _POINTER.match(sentence.lstrip())
    return found["word"] if found else None


def _points_back(source: Source, note: NoteSpec, untitled: str) -> Iterable[Problem]:
    """A key term's front whose sentence opens with a pointer, and is not the first of its item's text (the first
    points at the title, which the front shows); *untitled* is its text, the title aside."""
    aspect, _, rest = note.part.partition("/")
    found = source.items_by_id.get(note.item_id) if aspect == "term" else None
    if found is None:
        return
    item = found[1]
    marked = {"explanation": item.explanation, "conclusion": item.conclusion}.get(rest.partition("/")[0])
    shown = plain(_ASKED.sub(r"\1", untitled))  # as read, the title aside
    pointer = opens_with_pointer(shown)
    if marked is None or pointer is None or " ".join(marked.plain.split()).startswith(shown[:40]):
        return  # none, or the text's first sentence: it points at the title above it
    opening = " ".join(shown.split()[:6])
    yield _warn(
        note,
        f"the front opens with {pointer!r} (\"{opening} …\"), which points at a sentence the front does not "
        f"show: the student meets it alone; say what {pointer!r} is, or join the two sentences",
    )


def only_subject(before: str, after: str) -> bool:
    """True if a front reading *before*, the blank, then *after* says only a subject: no words after the blank, a
    linking verb before it, and before that at most :data:`MAX_SUBJECT_WORDS` words besides framing ones."""
    if WORD.search(after):
        return False  # words after the blank say what it is, or what it does
    link = _LINK.search(before)  # searched at every place of the text: only where nothing follows the blank
    if link is None:
        return False
    named = [w for w in WORD.findall(before[: link.start()]) if w.lower() not in FUNCTION_WORDS | _FRAMING]
    return len(named) <= MAX_SUBJECT_WORDS


# --- a which-perspective cue that names its perspective's typical setting ------------------


_SETTINGS: list[tuple[Source, Mapping[str, str], _Settings]] = []
"""The last source's setting words: every topic of a build reads the whole source's, they are made once."""


def forget_settings() -> None:
    """Drop the last source's setting words (and the source they hold)."""
    _SETTINGS.clear()


def _source_settings(source: Source, naming: Mapping[str, str]) -> _Settings:
    """:func:`_setting_words` of *source*, made once per build (per worker)."""
    if not _SETTINGS or _SETTINGS[0][0] is not source or _SETTINGS[0][1] != naming:
        _SETTINGS[:] = [(source, naming, _setting_words(source, naming))]
    return _SETTINGS[0][2]


def _setting_words(source: Source, naming: Mapping[str, str]) -> _Settings:
    """Per perspective id: its headings' words (stem -> the items or headings using them), and every word said of it.

    A perspective's headings are its sections' headings and its items'
    titles: what a student reads as the name of its setting.  Everything
    said of a perspective (its items' texts, its comparison sides) is what
    a word must be absent from, for another perspective, to tell it apart.
    Words that name a perspective are the named smell's, left out here.
    """
    names = {stem(s) for s in naming}
    headings: dict[str, dict[str, set[str]]] = {p.id: {} for p in source.perspectives}
    said: dict[str, set[str]] = {p.id: set() for p in source.perspectives}
    for topic in source.topics:
        found = [(pid, heading, "") for pid, heading in topic.headings]
        found += [
            (item.perspective, item.title.plain, item.id) for item in topic.items if item.perspective and item.title
        ]
        for pid, heading, item_id in found:
            if pid in headings:
                for word in content_stems(heading) - names:
                    headings[pid].setdefault(word, set()).add(item_id or heading)
                said[pid] |= content_stems(heading)
        for item in topic.items:
            if item.perspective in said:
                texts = [item.cue or "", *(t.plain for t in (item.explanation, item.conclusion) if t)]
                said[item.perspective] |= content_stems(" ".join(texts + [p.text.plain for p in item.points]))
        for comparison in topic.comparisons:
            for pid, side in comparison.sides:
                if pid in said:
                    said[pid] |= content_stems(side)
    return headings, said


def setting_answers(source: Source, naming: Mapping[str, str], lookups: Sequence[SettingLookup]) -> str:
    """What each look-up finds in *source* now: a reused topic's warnings of the kind stand while these do."""
    settings = _source_settings(source, naming)
    return repr([_telling(lookup, settings) for lookup in lookups])


def _lookup(source: Source, note: NoteSpec, cue: str, question: str) -> SettingLookup | None:
    """The cue's words beside its perspective (its item's), where it has one of the source's."""
    item = source.items_by_id.get(note.item_id)
    perspective = item[1].perspective if item else None
    if perspective is None or all(p.id != perspective for p in source.perspectives):
        return None
    return perspective, note.item_id, tuple(sorted(content_stems(_TAG.sub(" ", cue)) - content_stems(question)))


def _telling(lookup: SettingLookup, settings: _Settings) -> list[str]:
    """The cue's words its perspective's own headings (another item's) use and nothing said of another does."""
    perspective, item_id, cue_words = lookup
    headings, said = settings
    own = headings[perspective]
    others = set().union(*(words for pid, words in said.items() if pid != perspective))
    # its own title is where its cue comes from, not a setting the student met elsewhere
    return [w for w in cue_words if own.get(w, set()) - {item_id} and w not in others]


def _names_setting(
    source: Source,
    note: NoteSpec,
    lookup: SettingLookup | None,
    settings: _Settings,
) -> Iterable[Problem]:
    """The cue shares a word with its perspective's own headings (another item's) that nothing said of another uses."""
    if lookup is None:
        return
    telling = _telling(lookup, settings)
    if telling:
        name = source.perspective(lookup[0]).name
        yield _warn(
            note,
            f"the cue shares {', '.join(repr(w) for w in telling)} with {name!r}'s own headings, and nothing "
            "said of another perspective has it: the student matches the word, not the idea; give the item a "
            "'cue' that says what happens in other words",
        )


def _warn(note: NoteSpec, message: str) -> Problem:
    return Problem(note.file, note.line, note.local_key, message, "warning")

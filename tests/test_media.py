"""Images and audio on cards: declared by path, checked by their bytes, packaged under content-hashed names.

The round trip goes through the real Anki client: import, study, change the
image's bytes, rebuild into the same folder (per-topic reuse must not keep the
old package), re-import with the import dialog's defaults.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from generator.errors import ContentError
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build, plan
from generator.source.loader import load_source
from generator.source.media import HASH_BITS, MAX_BYTES, packaged_name
from generator.views.preview import write_preview

from .ankitools import import_package, open_collection, rendered_cards, study_everything
from .support import T1, T2

MEDIA_SOURCE = Path(__file__).resolve().parent / "sources" / "media"
IMAGE = "images/hofstede.png"
AUDIO = "audio/greeting.wav"


def name_of(path: Path) -> str:
    """The name deckgen packages *path* under."""
    return packaged_name(path.name, hashlib.sha256(path.read_bytes()).hexdigest())


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A private copy of the media source, without a lock."""
    target = tmp_path / "src"
    shutil.copytree(MEDIA_SOURCE, target, ignore=shutil.ignore_patterns("*.lock"))
    return target


def repaint(path: Path, colour: tuple[int, int, int]) -> None:
    """New bytes for the PNG at *path* (same name, same size)."""
    Image.new("RGB", (4, 4), colour).save(path, optimize=True)


def note_states(col) -> dict[int, tuple[int, int]]:  # noqa: ANN001 - anki's Collection
    return {cid: (ivl, reps) for cid, ivl, reps in col.db.all("select id, ivl, reps from cards")}


# --- packaging ------------------------------------------------------------------


def test_packaged_names_are_content_hashed_and_safe():
    digest = hashlib.sha256(b"x").hexdigest()
    assert packaged_name("images/Hofstede Map.PNG", digest) == f"Hofstede-Map-{digest[:32]}.png"
    assert packaged_name('a/<b>&"é.png', digest) == f"b-e-{digest[:32]}.png"
    assert packaged_name("images/---.png", digest) == f"media-{digest[:32]}.png"
    assert HASH_BITS == 128 and len(packaged_name("x" * 300 + ".jpeg", digest)) == 40 + 1 + 32 + 5 <= 120


def colliding_pngs() -> tuple[bytes, bytes]:
    """Two different PNGs whose SHA-256 share their first 32 bits (the old names' hash).

    A birthday search: about 2^16 variants (bytes after the image's end, which
    viewers ignore) until two prefixes meet; well under a second.
    """
    base = (MEDIA_SOURCE / IMAGE).read_bytes()
    seen: dict[bytes, bytes] = {}
    for counter in range(1 << 22):
        data = base + counter.to_bytes(4, "big")
        prefix = hashlib.sha256(data).digest()[:4]
        if prefix in seen:
            return seen[prefix], data
        seen[prefix] = data
    raise AssertionError("no 32-bit collision found")  # pragma: no cover - 2^22 tries make one certain


def test_two_images_sharing_32_bits_of_their_hash_are_both_packaged_and_each_shown(tmp_path):
    """Issue 16: names kept 32 bits of the hash, so these two were one file ('map-e45aac3f.png')."""
    first, second = colliding_pngs()
    assert first != second and hashlib.sha256(first).digest()[:4] == hashlib.sha256(second).digest()[:4]
    folder = tmp_path / "src"
    for sub, data in (("a", first), ("b", second)):
        (folder / sub).mkdir(parents=True)
        (folder / sub / "map.png").write_bytes(data)
    shutil.copy(MEDIA_SOURCE / "deckgen.yaml", folder / "deckgen.yaml")
    (folder / "maps.yaml").write_text(
        "topic: maps\nname: Maps\nitems:\n"
        "  - id: east\n    title: East\n    explanation: The {{east}} map.\n    image: a/map.png\n"
        "  - id: west\n    title: West\n    explanation: The {{west}} map.\n    image: b/map.png\n",
        encoding="utf-8",
    )
    build(BuildConfig(str(folder), str(tmp_path / "out"), timestamp=T1))
    with zipfile.ZipFile(tmp_path / "out" / "maps.apkg") as archive:
        media = json.loads(archive.read("media"))
        files = {name: archive.read(index) for index, name in media.items()}
    east, west = name_of(folder / "a" / "map.png"), name_of(folder / "b" / "map.png")
    assert east != west and files == {east: first, west: second}
    col = open_collection(tmp_path / "col")
    try:
        import_package(col, tmp_path / "out" / "maps.apkg")
        cards = rendered_cards(col)
        shown = {re.findall(r"East|West", c.question_text)[0]: re.findall(r'<img src="([^"]+)"', c.answer) for c in cards}
    finally:
        col.close()
    assert shown == {"East": [east], "West": [west]}


def test_the_package_carries_each_file_once_under_its_hashed_name(source, tmp_path):
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1))
    with zipfile.ZipFile(tmp_path / "out" / "dimensions.apkg") as archive:
        media = json.loads(archive.read("media"))
        files = {name: archive.read(index) for index, name in media.items()}
    assert files == {name_of(source / IMAGE): (source / IMAGE).read_bytes(), name_of(source / AUDIO): (source / AUDIO).read_bytes()}
    with zipfile.ZipFile(tmp_path / "out" / "plain.apkg") as archive:
        assert archive.read("media") == b"{}" and sorted(archive.namelist()) == ["collection.anki2", "media"]
    assert [f.notes for f in report.files] == [5, 1]


def test_media_packages_are_reproducible(source, tmp_path):
    build(BuildConfig(str(source), str(tmp_path / "a"), lock_path=str(tmp_path / "a.lock"), timestamp=T1))
    build(BuildConfig(str(source), str(tmp_path / "b"), lock_path=str(tmp_path / "b.lock"), timestamp=T1))
    for name in ("dimensions.apkg", "plain.apkg"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_the_inputs_record_each_media_file_by_its_path(source):
    before = dict(load_source(str(source)).inputs)
    repaint(source / IMAGE, (0, 90, 200))
    after = dict(load_source(str(source)).inputs)
    assert before[IMAGE] != after[IMAGE] == hashlib.sha256((source / IMAGE).read_bytes()).hexdigest()
    for name in ("01-dimensions.yaml", "02-plain.yaml"):  # a topic file's entry is its own bytes' digest
        assert before[name] == after[name] == hashlib.sha256((source / name).read_bytes()).hexdigest()


def test_a_changed_image_updates_exactly_the_notes_that_show_it(source, tmp_path):
    build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1))
    repaint(source / IMAGE, (0, 90, 200))
    predicted = plan(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T2))
    changes = {Path(f.path).name: (f.changes.added, f.changes.updated, f.changes.unchanged) for f in predicted.files}
    # hofstede and greeting: their cloze and their "which view?" notes; the plain item and topic stay
    assert changes == {"dimensions.apkg": (0, 4, 1), "plain.apkg": (0, 0, 1)}


# --- the real Anki client ---------------------------------------------------------


@pytest.fixture
def round_trip(source, tmp_path):
    out = tmp_path / "out"
    first = build(BuildConfig(str(source), str(out), timestamp=T1))
    old_name = name_of(source / IMAGE)
    col = open_collection(tmp_path / "col")
    for deck_file in first.files:
        import_package(col, Path(deck_file.path))
    before = rendered_cards(col)
    sounds = [
        tag.filename
        for cid in col.find_cards("")
        for tag in col.get_card(cid).render_output(reload=True).answer_av_tags
    ]
    studied = study_everything(col)
    state, revlog = note_states(col), dict(col.db.all("select cid, count() from revlog group by cid"))
    plain_package = (out / "plain.apkg").stat()
    repaint(source / IMAGE, (0, 90, 200))
    second = build(BuildConfig(str(source), str(out), timestamp=T2))  # the same folder: its cache and per-topic reuse
    for deck_file in second.files:
        import_package(col, Path(deck_file.path))
    yield {
        "col": col, "before": before, "after": rendered_cards(col), "old": old_name, "new": name_of(source / IMAGE),
        "sounds": sounds, "studied": studied, "state": state, "revlog": revlog, "second": second,
        "plain_reused": (out / "plain.apkg").stat().st_mtime_ns == plain_package.st_mtime_ns,
        "source": source,
    }
    col.close()


def test_anki_renders_the_image_and_stores_the_file(round_trip):
    col, before, old = round_trip["col"], round_trip["before"], round_trip["old"]
    with_image = [card for card in before if f'<img src="{old}">' in card.answer]
    # hofstede and greeting: a cloze and a "which view?" card each; never on a front
    assert len(with_image) == 4 and not any("<img" in card.question for card in before)
    media = Path(col.media.dir())
    assert (media / old).exists()
    assert round_trip["sounds"] == [name_of(round_trip["source"] / AUDIO)] * 2
    assert (media / round_trip["sounds"][0]).read_bytes() == (round_trip["source"] / AUDIO).read_bytes()


def test_a_changed_image_reaches_the_student_in_place(round_trip):
    col, old, new = round_trip["col"], round_trip["old"], round_trip["new"]
    assert old != new
    after = {card.card_id: card for card in round_trip["after"]}
    assert {card.card_id for card in round_trip["before"]} == set(after)  # no new card, none lost
    assert sum(f'<img src="{new}">' in card.answer for card in after.values()) == 4
    assert not any(old in card.answer for card in after.values())
    media = Path(col.media.dir())
    assert (media / new).read_bytes() == (round_trip["source"] / IMAGE).read_bytes()
    # the old file is Anki's to clean up (Tools > Check Media): kept, never overwritten
    assert (media / old).read_bytes() != (media / new).read_bytes()


def test_history_notes_and_note_types_survive_the_new_image(round_trip):
    col = round_trip["col"]
    assert round_trip["studied"] == len(round_trip["before"]) == 6
    assert note_states(col) == round_trip["state"]
    assert dict(col.db.all("select cid, count() from revlog group by cid")) == round_trip["revlog"]
    guids = [col.get_note(nid).guid for nid in col.find_notes("")]
    assert len(guids) == len(set(guids)) == 6
    ours = sorted(n.name for n in col.models.all_names_and_ids() if n.name.startswith("deckgen"))
    assert ours == ["deckgen Cloze", "deckgen Comparison"]  # no "deckgen Cloze+" copy


def test_only_the_topic_that_shows_the_image_is_rebuilt(round_trip):
    changes = {Path(f.path).name: (f.changes.updated, f.changes.unchanged) for f in round_trip["second"].files}
    assert changes == {"dimensions.apkg": (4, 1), "plain.apkg": (0, 1)}
    assert round_trip["plain_reused"]


# --- located problems ---------------------------------------------------------------

CONFIG = """\
id: bad-media
title: Bad Media
deck: Bad
perspectives:
  a: A
  b: B
"""

BAD_ITEMS = {
    "missing": "image: images/nowhere.png",
    "parent": "image: ../outside.png",
    "absolute": "image: /etc/hostname.png",
    "backslash": 'image: "images\\\\ok.png"',
    "escape": "image: images/link.png",
    "text": "image: images/text.png",
    "big": "image: images/big.png",
    "svg": "image: images/drawing.svg",
    "jpeg": "image: images/photo.png",
    "kind": "image: audio/sound.wav",
    "folder": "audio: images/folder.mp3",
    "noise": "audio: audio/noise.mp3",
}

EXPECTED = [
    "topic.yaml:6: items[0] (missing).image: 'images/nowhere.png': no such file in the source folder",
    "topic.yaml:9: items[1] (parent).image: '../outside.png': '..' leads out of the source folder; keep media files inside it",
    "topic.yaml:12: items[2] (absolute).image: '/etc/hostname.png': is an absolute path; give a path inside the source folder (e.g. images/diagram.png)",
    "topic.yaml:15: items[3] (backslash).image: 'images\\\\ok.png': write '/' between folders (e.g. images/diagram.png)",
    "topic.yaml:18: items[4] (escape).image: 'images/link.png': is a symbolic link that leads out of the source folder; keep media files inside it",
    "topic.yaml:21: items[5] (text).image: 'images/text.png': is not a PNG image by its content (it starts with b'not an i'); save it as a real one",
    f"topic.yaml:24: items[6] (big).image: 'images/big.png': the file is {MAX_BYTES['image'] + 1:,} bytes; an image file may be at most 2 MiB (2,097,152 bytes)",
    "topic.yaml:27: items[7] (svg).image: 'images/drawing.svg': SVG is not accepted: an SVG file is a document that can carry script; export it as PNG",
    "topic.yaml:30: items[8] (jpeg).image: 'images/photo.png': is not a PNG image by its content: it is a JPEG image; name it .jpg",
    "topic.yaml:33: items[9] (kind).image: 'audio/sound.wav': an image file must be one of: .png, .jpg, .jpeg, .gif, .webp",
    "topic.yaml:36: items[10] (folder).audio: 'images/folder.mp3': is a folder, not a file",
    "topic.yaml:39: items[11] (noise).audio: 'audio/noise.mp3': is not a MP3 audio file by its content (it starts with b'RIFF\\x00\\x00\\x00\\x00'); save it as a real one",
]


def bad_source(tmp_path: Path) -> Path:
    folder = tmp_path / "bad"
    (folder / "images" / "folder.mp3").mkdir(parents=True)
    (folder / "audio").mkdir()
    (tmp_path / "outside.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "images" / "link.png").symlink_to(tmp_path / "outside.png")
    (folder / "images" / "text.png").write_text("not an image at all", encoding="utf-8")
    (folder / "images" / "big.png").write_bytes(b"\x89PNG\r\n\x1a\n".ljust(MAX_BYTES["image"] + 1, b"\x00"))
    (folder / "images" / "drawing.svg").write_text("<svg onload='alert(1)'/>", encoding="utf-8")
    Image.new("RGB", (2, 2)).save(folder / "images" / "photo.png", format="JPEG")
    (folder / "images" / "ok.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (folder / "audio" / "sound.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVE")
    (folder / "audio" / "noise.mp3").write_bytes(b"RIFF\x00\x00\x00\x00AVI ")
    items = "".join(f"  - id: {key}\n    title: {key.title()}\n    {line}\n" for key, line in BAD_ITEMS.items())
    (folder / "deckgen.yaml").write_text(CONFIG, encoding="utf-8")
    (folder / "topic.yaml").write_text(f"topic: topic\nname: Topic\nitems:\n{items}", encoding="utf-8")
    return folder


def test_every_media_problem_is_located_at_once(tmp_path):
    folder = bad_source(tmp_path)
    with pytest.raises(ContentError) as raised:
        load_source(str(folder))
    lines = [str(problem).replace(f"{folder}{os.sep}", "") for problem in raised.value.problems]
    assert lines == EXPECTED


def test_a_link_inside_the_folder_and_a_shared_file_are_fine(source):
    (source / "images" / "alias.png").symlink_to("hofstede.png")
    topic = source / "02-plain.yaml"
    topic.write_text(topic.read_text(encoding="utf-8") + "    image: images/alias.png\n", encoding="utf-8")
    loaded = load_source(str(source))
    files = loaded.media_files()
    # a link's name is its own: the same bytes, packaged under each declared name
    alias = name_of(source / "images" / "alias.png")
    assert alias.startswith("alias-") and alias[-12:] == name_of(source / IMAGE)[-12:]
    assert sorted(files) == sorted({name_of(source / IMAGE), name_of(source / AUDIO), alias})
    assert {path for topic in loaded.topics for path in topic.media_paths} == {IMAGE, AUDIO, "images/alias.png"}


# --- the preview ------------------------------------------------------------------


def test_the_preview_embeds_each_file_once_and_shows_it(source, tmp_path):
    page_path = tmp_path / "preview.html"
    assert write_preview(str(source), str(page_path)) == 6
    page = page_path.read_text(encoding="utf-8")
    image, audio = name_of(source / IMAGE), name_of(source / AUDIO)
    assert page.count(f'<img data-media="{image}" alt="">') == 4
    assert page.count(f'<audio controls preload="none" data-media="{audio}"></audio>') == 2
    media = json.loads(re.search(r'<script type="application/json" id="pv-media">(.*?)</script>', page).group(1))
    png = (source / IMAGE).read_bytes()
    assert media[image] == "data:image/png;base64," + base64.b64encode(png).decode()
    assert media[audio].startswith("data:audio/wav;base64,")
    assert page.count("data:image/png;base64,") == 1  # once, however many cards show it
    assert re.search(r"<[a-z]+\s[^>]*\bsrc\s*=|https?://|url\(", page) is None  # self-contained: nothing to fetch


def test_chromium_shows_the_embedded_image(source, tmp_path):
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("chromium is not installed")
    page_path = tmp_path / "preview.html"
    write_preview(str(source), str(page_path))
    result = subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--dump-dom", page_path.as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    images = re.findall(r"<img [^>]*>", result.stdout)
    assert len(images) == 4 and all('src="data:image/png;base64,' in tag for tag in images), images


def test_a_changed_image_is_seen_by_the_no_change_fast_path(source, tmp_path, monkeypatch):
    """The whole-build cache hashes the media files the last build read, not only the YAML."""
    import generator.pipeline.pipeline as pipeline

    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    real_make = pipeline._make
    monkeypatch.setattr(pipeline, "_make", lambda job: pytest.fail("no change, yet the source was built again"))
    assert build(BuildConfig(str(source), str(out), timestamp=T2)).total("unchanged") == 6  # the fast path: every note unchanged
    monkeypatch.setattr(pipeline, "_make", real_make)
    repaint(source / IMAGE, (200, 30, 0))
    assert build(BuildConfig(str(source), str(out), timestamp=T2)).total("updated") == 4  # hofstede's and greeting's notes


def test_an_image_named_in_decomposed_unicode_is_found(source, tmp_path):
    """A file named on macOS ("café" as "cafe" + a combining accent) matches the text's composed "café"."""
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "images/café.png")
    (source / IMAGE).rename(source / decomposed)
    topic = source / "01-dimensions.yaml"
    topic.write_text(topic.read_text(encoding="utf-8").replace(IMAGE, "images/café.png"), encoding="utf-8")
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1))
    assert report.total("added") == 6

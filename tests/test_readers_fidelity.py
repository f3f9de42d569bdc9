"""What the document readers used to lose or garble, each on a small real file built here:
characters beyond the BMP in RTF, Word's inline and nested content, PDF bookmarks, EPUB
chapters without a heading, OpenDocument shapes, notes and frames."""

from __future__ import annotations

from pathlib import Path

from tests.formats import read


def test_rtf_emoji_is_one_character_not_two_surrogates(tmp_path: Path):
    # RTF writes U+1F6A2 (ship) as its UTF-16 pair; a lone half cannot be encoded at all.
    path = tmp_path / "ferry.rtf"
    path.write_text(
        r"{\rtf1\ansi\deff0{\fonttbl{\f0 Arial;}}"
        "\n"
        r"\pard The ferry \u-10179?\u-8542? leaves at noon \u-10179? from pier 4.\par}",
        encoding="ascii",
    )
    text, _, chunks = read(path)
    assert "The ferry \U0001f6a2 leaves at noon \ufffd from pier 4." in text
    text.encode("utf-8")  # what the index does with it
    for chunk in chunks:
        chunk.page_content.encode("utf-8")

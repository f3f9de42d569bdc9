"""EPUB books read chapter by chapter, in the order of their spine, each chapter's XHTML read
as HTML is (``markup.html_parts``: its main text by heading path), the section led by the
chapter's title from the book's table of contents.

Read with zipfile and lxml rather than ebooklib: ebooklib is AGPL-3.0, and what a reader
needs (container.xml → the package document → the spine, and the table of contents) is a
few XPath queries (docs/formats.md).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote

from qa.documents.blocks import Reading
from qa.documents.markup import SEPARATOR, Part, html_parts
from qa.errors import BadDocumentError

NS = {
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
    "opf": "http://www.idpf.org/2007/opf",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
}


def _xml(book: zipfile.ZipFile, name: str):
    from lxml import etree

    return etree.fromstring(book.read(name), etree.XMLParser(recover=True, resolve_entities=False))


def _member(base: str, href: str) -> str:
    """The archive member an href names: relative to the package document, %-escapes
    decoded, less any #fragment."""
    return posixpath.normpath(posixpath.join(base, unquote(href.split("#")[0])))


def _label(element, path: str) -> str:
    return " ".join("".join(element.xpath(path, namespaces=NS)).split())


def _contents(book: zipfile.ZipFile, opf, base: str) -> dict[str, list[str]]:
    """{chapter file: its title under the titles of the entries it is nested in ("Part One",
    "Chapter 1")} from the EPUB 3 navigation document or the EPUB 2 NCX."""
    titles: dict[str, list[str]] = {}
    nav = opf.xpath("//opf:manifest/opf:item[contains(@properties, 'nav')]/@href", namespaces=NS)
    ncx = opf.xpath(
        "//opf:manifest/opf:item[@media-type='application/x-dtbncx+xml']/@href", namespaces=NS
    )
    if nav:
        path = posixpath.join(base, nav[0])
        for a in _xml(book, path).xpath("//x:nav[@epub:type='toc']//x:a[@href]", namespaces=NS):
            target = _member(posixpath.dirname(path), a.get("href"))
            above = a.xpath("ancestor::x:li", namespaces=NS)[:-1]  # the last is a's own
            parents = [_label(li, "(x:a|x:span)[1]//text()") for li in above]
            titles.setdefault(target, [*filter(None, parents), _label(a, ".//text()")])
    elif ncx:
        path = posixpath.join(base, ncx[0])
        for point in _xml(book, path).xpath("//ncx:navPoint", namespaces=NS):
            src = point.xpath("ncx:content/@src", namespaces=NS)
            labels = [
                _label(p, "ncx:navLabel//text()")
                for p in point.xpath("ancestor-or-self::ncx:navPoint", namespaces=NS)
            ]
            if src:
                titles.setdefault(_member(posixpath.dirname(path), src[0]), [*filter(None, labels)])
    return titles


# Producers without a title for a chapter file write its file name (pandoc: "ch002.xhtml").
_TITLE = re.compile(rb"<title(?:\s[^>]*)?>([^<]*)</title>", re.I)
_FILE_NAME = re.compile(r"^[\w.-]+\.(?:x?html?|xml)$", re.I)


def _without_file_title(data: bytes, name: str) -> bytes:
    """The chapter's XHTML less a <title> that is only its file's name: such a title heads
    no section and is no text of the book (the table of contents names the chapter)."""
    found = _TITLE.search(data)
    if not found:
        return data
    title = found[1].decode("utf-8", "replace").strip()
    base = posixpath.basename(name)
    if _FILE_NAME.match(title) or title in {base, posixpath.splitext(base)[0]}:
        return data[: found.start(1)] + data[found.end(1) :]
    return data


def _under(chapter: list[str], section: str) -> str:
    """A section of a chapter's page under the chapter's place in the table of contents,
    the titles both give said once ("Part One › Chapter 1" and "Chapter 1 › Fuel")."""
    said = section.split(SEPARATOR) if section else []
    shared = next(
        (k for k in range(min(len(chapter), len(said)), 0, -1) if said[:k] == chapter[-k:]), 0
    )
    return SEPARATOR.join([*chapter, *said[shared:]])


def epub_parts(path: Path, reading: Reading) -> list[Part]:
    """A book's chapters in reading order; each part's section starts with its chapter."""
    try:
        with zipfile.ZipFile(path) as book:
            if "META-INF/encryption.xml" in book.namelist():
                raise BadDocumentError("encrypted EPUB (DRM)")
            root = _xml(book, "META-INF/container.xml")
            opf_path = root.xpath("//c:rootfile/@full-path", namespaces=NS)[0]
            opf, base = _xml(book, opf_path), posixpath.dirname(opf_path)
            manifest = {
                item.get("id"): _member(base, item.get("href"))
                for item in opf.xpath("//opf:manifest/opf:item", namespaces=NS)
            }
            spine = opf.xpath("//opf:spine/opf:itemref/@idref", namespaces=NS)
            chapters = _contents(book, opf, base)
            # Some producers list a file once per anchor in it (href="ch.xhtml#o8"): read once.
            order = dict.fromkeys(manifest[i] for i in spine if i in manifest)
            files = [(name, book.read(name)) for name in order]
    except (zipfile.BadZipFile, KeyError, IndexError, ValueError, OSError) as e:
        raise BadDocumentError(f"unreadable EPUB ({e or type(e).__name__})") from None
    parts: list[Part] = []
    offset = 0
    for name, data in files:
        chapter = chapters.get(name, [])
        try:
            read = html_parts(_without_file_title(data, name))
        except BadDocumentError:
            continue  # an empty chapter file (a cover page) is no reason to refuse the book
        start = offset + (2 if parts else 0)  # the blank line between chapters
        for part in read:
            section = _under(chapter, part.section)
            parts.append(Part(start + part.offset, part.text, section))
        if read:
            offset = parts[-1].offset + len(parts[-1].text)
    return parts

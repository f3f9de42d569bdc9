"""EPUB books read chapter by chapter, in the order of their spine, each chapter's XHTML read
as HTML is (``markup.html_parts``: its main text by heading path), the section led by the
chapter's title from the book's table of contents.

Read with zipfile and lxml rather than ebooklib: ebooklib is AGPL-3.0, and what a reader
needs (container.xml → the package document → the spine, and the table of contents) is a
few XPath queries (docs/formats.md).
"""

from __future__ import annotations

import posixpath
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


def _contents(book: zipfile.ZipFile, opf, base: str) -> dict[str, str]:
    """{chapter file: title} from the EPUB 3 navigation document or the EPUB 2 NCX."""
    titles: dict[str, str] = {}
    nav = opf.xpath("//opf:manifest/opf:item[contains(@properties, 'nav')]/@href", namespaces=NS)
    ncx = opf.xpath(
        "//opf:manifest/opf:item[@media-type='application/x-dtbncx+xml']/@href", namespaces=NS
    )
    if nav:
        path = posixpath.join(base, nav[0])
        for a in _xml(book, path).xpath("//x:nav[@epub:type='toc']//x:a[@href]", namespaces=NS):
            target = _member(posixpath.dirname(path), a.get("href"))
            titles.setdefault(target, " ".join("".join(a.itertext()).split()))
    elif ncx:
        path = posixpath.join(base, ncx[0])
        for point in _xml(book, path).xpath("//ncx:navPoint", namespaces=NS):
            src = point.xpath("ncx:content/@src", namespaces=NS)
            label = " ".join("".join(point.xpath("ncx:navLabel//text()", namespaces=NS)).split())
            if src:
                titles.setdefault(_member(posixpath.dirname(path), src[0]), label)
    return titles


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
        chapter = chapters.get(name, "")
        try:
            read = html_parts(data)
        except BadDocumentError:
            continue  # an empty chapter file (a cover page) is no reason to refuse the book
        start = offset + (2 if parts else 0)  # the blank line between chapters
        for part in read:
            section = part.section
            if chapter and not section.startswith(chapter):
                section = f"{chapter}{SEPARATOR}{section}" if section else chapter
            parts.append(Part(start + part.offset, part.text, section))
        if read:
            offset = parts[-1].offset + len(parts[-1].text)
    return parts

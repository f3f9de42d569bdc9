"""HTML and Markdown read as a person reads them: the main text, in sentences, by section.

HTML: the page's main element (``<main>``, ``role=main`` or ``<article>``, else the body) less
its navigation (menus, sidebars, tables of contents, previous/next links, page headers and
footers), turned into text by inscriptis, which keeps inline elements inside their sentences,
gives each block element its own lines, and keeps code blocks and tables laid out. Its
heading annotations give every part of the page its section path.

Markdown keeps offsets into the file: markup (heading hashes, emphasis marks, link targets,
code fences) is blanked with spaces of the same length, never removed, so that every
offset still points at the same character of the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from qa.errors import BadDocumentError

SEPARATOR = " › "  # between the levels of a section path

# Navigation, in standard HTML and in the markup of common documentation generators
# (Sphinx, DocBook, asciidoc, MkDocs, Javadoc, Doxygen): never the text of a page.
NAVIGATION = ", ".join(
    [
        "script, style, noscript, template, form, button, svg, nav",
        "[role=navigation], [role=search], [role=complementary], [hidden], [aria-hidden=true]",
        ".related, .sphinxsidebar, .headerlink, .footer, #footer, .navheader, .navfooter",
        ".toc, #toc, #toctitle, .breadcrumb, .breadcrumbs, .md-sidebar, .md-header",
        ".md-footer, .topNav, .bottomNav, .subNav, #nav-path, #side-nav, .skip-link",
    ]
)
# Outside an explicit main element, the page's banner and footer are navigation too.
PAGE_FRAME = "header, footer, [role=banner], [role=contentinfo]"
MAIN = ("main", "[role=main]", "article")


@dataclass(frozen=True)
class Part:
    """A stretch of a document's text that lies in one section (and, for PDFs, on one page)."""

    offset: int  # where the part starts in the document's text
    text: str
    section: str = ""  # the section path: title › heading › subheading
    page: int = 0  # 1-based page of a PDF; 0 where a document has no pages
    confidence: float | None = None  # how sure OCR was of the text (0-1); None: not OCR


@dataclass
class Outline:
    """The headings seen so far, as a stack of (level, title), under the document's title."""

    title: str = ""
    stack: list[tuple[int, str]] = field(default_factory=list)

    def enter(self, level: int, heading: str) -> str:
        """Open a heading of ``level`` (1 is the top); returns the new section path."""
        heading = " ".join(heading.split()).rstrip("¶#").strip()
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        if heading and heading != self.title:
            self.stack.append((level, heading))
        return self.path

    @property
    def path(self) -> str:
        titles = [self.title] if self.title else []
        return SEPARATOR.join([*titles, *(t for _, t in self.stack)])


def _tidy(text: str) -> str:
    """Trailing spaces and runs of blank lines left by the layout, removed."""
    lines = (line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")


def html_parts(data: bytes) -> list[Part]:
    """The page's main text, one part per section; offsets into the text the parts make."""
    import lxml.html
    from inscriptis import Inscriptis
    from inscriptis.css_profiles import CSS_PROFILES
    from inscriptis.model.config import ParserConfig
    from lxml import etree
    from lxml.cssselect import CSSSelector

    try:  # lxml refuses text that still declares its encoding
        html: str | bytes = _XML_DECLARATION.sub("", data.decode("utf-8-sig"), count=1)
    except UnicodeDecodeError:
        html = data  # lxml reads the encoding the page declares
    try:
        tree = lxml.html.document_fromstring(html)
    except etree.ParserError as e:  # "Document is empty"
        raise BadDocumentError(f"unreadable HTML ({e})") from None
    title = " ".join(tree.findtext(".//title", "").split())
    main = next((m[0] for m in (CSSSelector(s)(tree) for s in MAIN) if m), None)
    if main is None:
        main_or_body = tree.find("body")
        root = main_or_body if main_or_body is not None else tree
    else:
        root = main
    drop = NAVIGATION if main is not None else f"{NAVIGATION}, {PAGE_FRAME}"
    for element in CSSSelector(drop)(root):
        if element.getparent() is not None:
            element.drop_tree()
    rules = {f"h{level}": [str(level)] for level in range(1, 7)}
    config = ParserConfig(css=CSS_PROFILES["strict"], annotation_rules=rules)
    parsed = Inscriptis(root, config)
    raw, headings = parsed.get_text(), sorted(parsed.get_annotations())
    # The first h1 is the page's title; a page without one is titled by its <title>.
    h1 = next((raw[a.start : a.end] for a in headings if a.metadata == "1"), "")
    outline = Outline(" ".join(h1.split()) or title)
    prefix = "" if h1 or raw.lstrip().startswith(title) else title + "\n\n"
    parts: list[Part] = []
    cuts = [(0, 0, "")] + [(a.start, int(a.metadata), raw[a.start : a.end]) for a in headings]
    ends = [start for start, *_ in cuts[1:]] + [len(raw)]
    offset = 0
    for (start, level, heading), end in zip(cuts, ends, strict=True):
        section = outline.enter(level, heading) if heading else outline.path
        text = _tidy((prefix if not parts else "") + raw[start:end])
        if text:
            if parts:
                offset += 2  # the blank line between sections
            parts.append(Part(offset, text, section))
            offset += len(text)
    return parts


# Markdown. Each pattern's groups are the markup to blank; what lies between them stays.
_FENCE = re.compile(r"^ {0,3}(```+|~~~+)")
_ATX = re.compile(r"^( {0,3}#{1,6})(?:[ \t]+(.*?))?([ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_LINE_MARKS = re.compile(r"^([ \t]*(?:>[ \t]?)*(?:[-*+][ \t]+)?)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*\S.*$")
_INLINE = [
    re.compile(r"(!?\[)([^\]\n]*)(\]\([^)\n]*\))"),  # [text](target), ![alt](image)
    re.compile(r"(\[)([^\]\n]+)(\]\[[^\]\n]*\])"),  # [text][reference]
    re.compile(r"(`+)([^`\n]+?)(\1)"),  # `code`
    re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)(\1)"),  # **strong**
    re.compile(r"(?<![\w*])(\*)(?=[^\s*])(.+?)(?<=[^\s*])(\*)(?![\w*])"),  # *emphasis*
    re.compile(r"(?<![\w_])(_)(?=[^\s_])(.+?)(?<=[^\s_])(_)(?![\w_])"),  # _emphasis_
    re.compile(r"(<[A-Za-z/!][^>\n]*>)()()"),  # inline HTML tags
]


def _blank(text: str) -> str:
    return re.sub(r"[^\n]", " ", text)


def _unmark(line: str) -> str:
    """A line of prose with its inline markup blanked (same length)."""
    for pattern in _INLINE:
        line = pattern.sub(lambda m: _blank(m[1]) + m[2] + _blank(m[3] or ""), line)
    return line


@dataclass
class MarkdownReader:
    """Reads a Markdown file piece by piece (pieces of any size, cut at line ends), into
    parts by section; state (open code fence, headings) carries from piece to piece."""

    outline: Outline = field(default_factory=Outline)
    fence: str = ""
    section: str = ""

    def parts(self, text: str, offset: int) -> Iterator[Part]:
        lines = text.splitlines(keepends=True)
        out: list[str] = []
        start = offset  # where the current part begins
        for i, line in enumerate(lines):
            body = line.rstrip("\n")
            heading = None
            if fence := _FENCE.match(body):
                if not self.fence or fence[1].startswith(self.fence):
                    self.fence = "" if self.fence else fence[1]
                    body = _blank(body)
            elif self.fence:
                pass  # code stays as it is
            elif m := _ATX.match(body):
                heading = (len(m[1].strip()), m[2] or "")
                body = _blank(m[1]) + body[len(m[1]) :]
                if m[3]:
                    body = body[: m.start(3)] + _blank(m[3])
            elif _REFERENCE.match(body):
                body = _blank(body)
            elif _SETEXT.match(body) and out and out[-1].strip():
                # The underline makes the line above a heading; it already went out as prose.
                level = 1 if body.strip()[0] == "=" else 2
                heading, body = (level, lines[i - 1]), _blank(body)
            elif body.strip() in {"---", "***", "___"}:
                body = _blank(body)
            else:
                marks = _LINE_MARKS.match(body)[1]
                body = _blank(marks) + _unmark(body[len(marks) :])
            if heading:
                # A setext heading's own line opens the section too.
                own = out.pop() if _SETEXT.match(line.rstrip("\n")) else None
                if "".join(out).strip():
                    yield Part(start, "".join(out), self.section)
                start += sum(len(x) for x in out)
                out = [own] if own is not None else []
                self.section = self.outline.enter(*heading)
            out.append(body + line[len(line.rstrip("\n")) :])
        if "".join(out).strip():
            yield Part(start, "".join(out), self.section)

"""E-mail (.eml, one message; .mbox, a mailbox of them) read by Python's email package: each
message under the section ``subject › from › date``, its headers, its body (the plain text,
else the HTML read as text) less the quoted replies (they are indexed where they were
written), and its text attachments under ``… › attachment name``; an attached message
(message/rfc822, a forward) is read as a message of its own, under its own section.
"""

from __future__ import annotations

import email
import mailbox
import re
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path

from qa.documents.blocks import Block, Reading, assemble, decoded
from qa.documents.markup import SEPARATOR, Part, html_parts
from qa.errors import BadDocumentError

# Where a quoted reply begins: "On <date>, <name> wrote:", an Outlook header block.
_ATTRIBUTION = re.compile(
    r"^\s*(On\b.{0,200}\bwrote:|Le\b.{0,200}\ba écrit\s?:|Am\b.{0,200}\bschrieb\b.{0,80}:)\s*$"
)
_BLANK = re.compile(r"\n[ \t]*\n")  # a blank line, between two paragraphs
_ORIGINAL = re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.I)
# An inline forward: what follows is a message sent on, indexed nowhere else, so it is kept.
_FORWARDED = re.compile(r"^\s*-{2,}\s*Forwarded message\s*-{2,}\s*$", re.I)
# mbox escapes a body line "From ..." as ">From ..." (and ">From" as ">>From", mboxrd).
_MBOX_FROM = re.compile(rb"^>(>*From )", re.M)
_WORD = re.compile(r"\w+")
STUB = 3  # a plain part under a third of the HTML's text is a stub ("use an HTML reader")


def unquoted(text: str) -> str:
    """A body less what it quotes: lines marked ">", the line that introduces them, and all
    that follows an "-----Original Message-----" line. An inline forward, from its
    "---------- Forwarded message ---------" line on, is kept whole."""
    lines = text.splitlines()
    keep = []
    for i, line in enumerate(lines):
        if _ORIGINAL.match(line):
            break
        if _FORWARDED.match(line):
            keep += lines[i:]
            break
        if line.lstrip().startswith(">"):
            continue
        following = next((x for x in lines[i + 1 :] if x.strip()), "")
        if _ATTRIBUTION.match(line) and following.lstrip().startswith(">"):
            continue
        keep.append(line)
    return "\n".join(keep)


def _decoded(data: bytes, charset: str | None) -> str:
    """Bytes in the charset the message names, else UTF-8, else Latin-1: a charset that
    is unknown (x-unknown-42) or wrong (8-bit Latin-1 labelled UTF-8) is common."""
    return decoded(data, (charset or "ascii", "utf-8"))


def _text_of(part: EmailMessage) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    content = _decoded(payload, part.get_content_charset())
    if part.get_content_type() == "text/html":
        try:
            return "\n\n".join(p.text for p in html_parts(content.encode()))
        except BadDocumentError:
            return ""
    return content


def _body(message: EmailMessage) -> str:
    """The plain part, unless it is only a stub beside an HTML alternative ("Please use an
    HTML-capable mail reader"): much shorter than the HTML's text, or not the same words."""
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    if plain is None or html is None:  # ``is None``: a part without headers is falsy
        only = plain if plain is not None else html
        return _text_of(only) if only is not None else ""
    text, rich = _text_of(plain), _text_of(html)
    words = {w.lower() for w in _WORD.findall(text)}
    shared = words & {w.lower() for w in _WORD.findall(rich)}
    stub = len(text.strip()) * STUB < len(rich.strip()) or len(shared) * 2 < len(words)
    return rich if stub else text


def _header(message: EmailMessage, name: str) -> str:
    """A header as one line of text. A raw 8-bit header (not RFC 2047-encoded) is read as
    UTF-8 when it is that, else as Latin-1 (the email package shows its bytes as U+FFFD)."""
    raw = next((v for k, v in message.raw_items() if k.lower() == name.lower()), None)
    if raw is None:
        return ""
    if any("\udc80" <= c <= "\udcff" for c in raw):  # bytes kept by surrogateescape
        value = _decoded(raw.encode("utf-8", "surrogateescape"), None)
    else:
        value = str(message[name])
    return " ".join(value.split())


def _message_blocks(message: EmailMessage) -> Iterator[Block]:
    headers = {h: _header(message, h) for h in ("From", "To", "Cc", "Date", "Subject")}
    subject = headers["Subject"] or "(no subject)"
    section = SEPARATOR.join(x for x in (subject, headers["From"], headers["Date"]) if x)
    said = [f"{h}: {value}" for h, value in headers.items() if value]
    yield Block("\n".join(said), section)
    yield from _paragraphs(unquoted(_body(message)), section)
    for attachment in message.iter_attachments():
        if attachment.get_content_type() == "message/rfc822":  # a forward, as a message
            inner = attachment.get_content()
            if isinstance(inner, EmailMessage):
                yield from _message_blocks(inner)
        elif attachment.get_content_maintype() == "text":
            name = attachment.get_filename() or "attachment"
            yield from _paragraphs(_text_of(attachment), f"{section}{SEPARATOR}{name}")


def _paragraphs(text: str, section: str) -> Iterator[Block]:
    """A text a block per paragraph: a plain-text mail's lines are wrapped at 72 characters,
    so its paragraphs, not its lines, are what the chunks should be cut between (a block's
    own blank lines are dropped)."""
    for paragraph in _BLANK.split(text):
        yield Block(paragraph, section)


def _parse(data: bytes) -> EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


def eml_parts(path: Path, reading: Reading) -> list[Part]:
    """One message: headers, body and text attachments."""
    message = _parse(path.read_bytes())
    if not message.keys():
        raise BadDocumentError("not an e-mail message (no headers)")
    return assemble(_message_blocks(message))


def mbox_parts(path: Path, reading: Reading) -> list[Part]:
    """Every message of a mailbox, each under its own section."""
    try:
        box = mailbox.mbox(path, factory=None, create=False)
        messages = [_parse(_MBOX_FROM.sub(rb"\1", m.as_bytes())) for m in box]
    except (mailbox.Error, OSError) as e:
        raise BadDocumentError(f"unreadable mailbox ({e})") from None
    return assemble(b for m in messages for b in _message_blocks(m))

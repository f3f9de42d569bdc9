"""E-mail (.eml, one message; .mbox, a mailbox of them) read by Python's email package: each
message under the section ``subject › from › date``, its headers, its body (the plain text,
else the HTML read as text) less the quoted replies (they are indexed where they were
written), and its text attachments under ``… › attachment name``.
"""

from __future__ import annotations

import email
import mailbox
import re
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path

from qa.documents.blocks import Block, Reading, assemble
from qa.documents.markup import SEPARATOR, Part, html_parts
from qa.errors import BadDocumentError

# Where a quoted reply begins: "On <date>, <name> wrote:", an Outlook header block.
_ATTRIBUTION = re.compile(
    r"^\s*(On\b.{0,200}\bwrote:|Le\b.{0,200}\ba écrit\s?:|Am\b.{0,200}\bschrieb\b.{0,80}:)\s*$"
)
_BLANK = re.compile(r"\n[ \t]*\n")  # a blank line, between two paragraphs
_ORIGINAL = re.compile(r"^\s*-{2,}\s*(Original Message|Forwarded message)\s*-{2,}\s*$", re.I)


def unquoted(text: str) -> str:
    """A body less what it quotes: lines marked ">", the line that introduces them, and all
    that follows an "-----Original Message-----" line."""
    lines = text.splitlines()
    keep = []
    for i, line in enumerate(lines):
        if _ORIGINAL.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        following = next((x for x in lines[i + 1 :] if x.strip()), "")
        if _ATTRIBUTION.match(line) and following.lstrip().startswith(">"):
            continue
        keep.append(line)
    return "\n".join(keep)


def _text_of(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset
        content = part.get_payload(decode=True).decode("latin-1")
    if part.get_content_type() == "text/html":
        data = content.encode() if isinstance(content, str) else content
        try:
            return "\n\n".join(p.text for p in html_parts(data))
        except BadDocumentError:
            return ""
    return content if isinstance(content, str) else ""


def _message_blocks(message: EmailMessage) -> Iterator[Block]:
    subject = " ".join(str(message.get("subject", "")).split()) or "(no subject)"
    sender = " ".join(str(message.get("from", "")).split())
    date = " ".join(str(message.get("date", "")).split())
    section = SEPARATOR.join(x for x in (subject, sender, date) if x)
    said = [
        f"{h}: {' '.join(str(message[h]).split())}"
        for h in ("From", "To", "Cc", "Date", "Subject")
        if message[h]
    ]
    yield Block("\n".join(said), section)
    body = message.get_body(preferencelist=("plain", "html"))
    if body is not None:
        yield from _paragraphs(unquoted(_text_of(body)), section)
    for attachment in message.iter_attachments():
        if attachment.get_content_maintype() == "text":
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
        messages = [_parse(m.as_bytes()) for m in box]
    except (mailbox.Error, OSError) as e:
        raise BadDocumentError(f"unreadable mailbox ({e})") from None
    return assemble(b for m in messages for b in _message_blocks(m))

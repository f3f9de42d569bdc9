"""How an answer looks on the chat page: its message with clickable ``[n]`` markers, and the
sources panel beside the chat (each citation with its source, position and supporting span).
A fresh answer and one reopened from a kept conversation are shown by the same functions."""

from __future__ import annotations

import html

from qa.answering.answer import Answer
from qa.answering.format import linked

# A click on [n] in an answer scrolls the sources panel to source n and flashes it.
HEAD = """<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href^='#qa-source-']");
  if (!link) return;
  event.preventDefault();
  const target = document.getElementById(link.getAttribute("href").slice(1));
  if (!target) return;
  target.scrollIntoView({behavior: "smooth", block: "center"});
  target.classList.add("qa-flash");
  setTimeout(() => target.classList.remove("qa-flash"), 1200);
}, true);
</script>"""
CSS = """
#qa-sources mark { background: #fde68a; padding: 0 2px; }
.qa-source { border-left: 3px solid #d1d5db; padding: 4px 10px; margin: 8px 0; }
.qa-source p { white-space: pre-wrap; }
.qa-flash { border-left-color: #f59e0b; background: #fffbeb; }
"""

EMPTY = "<p class='qa-empty'>Cited passages appear here.</p>"


def answer_message(answer: Answer, turn: int, note: str = "") -> str:
    """The answer's chat message: ``[n]`` links to turn ``turn``'s sources, then ``note``
    (what checking changed, ``MODE_NOTES``) in italics."""
    shown = linked(answer.answer, f"#qa-source-{turn}-{{n}}")
    return shown + (f"\n\n*{note}*" if note else "")


def sources_html(answer: Answer, turn: int) -> str:
    """Each citation with its source and position, the supporting span highlighted; ids
    are the turn's own, so that an older answer's [n] still finds its passage."""
    if not answer.citations:
        title = "<h3>Not found in the documents</h3><p>Closest passages:</p>"
    else:
        title = "<h3>Sources</h3>"
    parts = [f"<div class='qa-turn'><p class='qa-asked'>{html.escape(answer.question)}</p>{title}"]
    for c in answer.citations or answer.passages:
        text = c.passage or c.quote
        lo, hi = c.start - c.passage_start, c.end - c.passage_start
        if answer.citations and c.passage:
            body = f"{html.escape(text[:lo])}<mark>{html.escape(text[lo:hi])}</mark>"
            body += html.escape(text[hi:])
        else:
            body = html.escape(text)
        parts.append(
            f"<div class='qa-source' id='qa-source-{turn}-{c.n}'><b>[{c.n}]</b> "
            f"<code>{html.escape(c.source)}:{c.start}-{c.end}</code>"
            + (f" <span class='qa-where'>{html.escape(c.where)}</span>" if c.where else "")
            + f"<p>{body}</p></div>"
        )
    return "\n".join(parts) + "</div>"

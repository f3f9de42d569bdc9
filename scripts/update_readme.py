"""Regenerate the settings table (docs/settings.md) and the `--help` sections (README, docs/cli.md).

Run `python scripts/update_readme.py`; `tests/test_readme.py` fails when either is stale.

Markers: `<!-- settings -->...<!-- /settings -->` holds the settings table;
`<!-- help -->...<!-- /help -->` every command's `--help`, and `<!-- help: qa ask -->` only
those named (`qa` is the command group itself).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import describe, env_name  # noqa: E402
from qa.interfaces.cli import main  # noqa: E402

COMMANDS = [
    "ingest",
    "ask",
    "eval",
    "calibrate",
    "generate",
    "serve",
    "watch",
    "mcp",
    "collections",
    "status",
    "users",
]
FILES = [ROOT / "README.md", ROOT / "docs" / "cli.md", ROOT / "docs" / "settings.md"]
HELP = re.compile(r"<!-- help(?:: ([\w ]+))? -->.*?<!-- /help -->", re.S)


def settings_table() -> str:
    rows = ["| variable | flag | default | what |", "|---|---|---|---|"]
    for name, _type, help_text, default, short in describe():
        flag = short or f"--{name.replace('_', '-')}"
        shown = {"threads": "(cores)", "cache_dir": "(~/.cache/docqa)"}.get(name, default)
        rows.append(f"| `{env_name(name)}` | `{flag}` | `{shown}` | {help_text} |")
    return "\n".join(rows)


def help_text(commands: list[str] | None = None) -> str:
    """``qa --help`` and each command's, or only ``commands`` ("qa": the group's own)."""
    wanted = ["qa", *COMMANDS] if commands is None else commands
    unknown = set(wanted) - {"qa", *COMMANDS}
    if unknown:
        raise ValueError(f"no such command: {', '.join(sorted(unknown))}")
    runner = CliRunner()
    blocks = []
    for args in ([] if c == "qa" else [c] for c in wanted):
        out = runner.invoke(main, [*args, "--help"], terminal_width=100).output
        out = re.sub(
            r"\[default: \d+\]  \[env var: QA_THREADS\]",
            "[default: cores]  [env var: QA_THREADS]",
            out,
        )
        out = re.sub(r"\[default: [^\]]*\.cache/docqa\]", "[default: ~/.cache/docqa]", out)
        blocks.append(
            f"```console\n$ qa {' '.join(args)} --help\n{out.rstrip()}\n```".replace(
                "qa  --", "qa --"
            )
        )
    return "\n\n".join(blocks)


def render(text: str) -> str:
    text = re.sub(
        r"<!-- settings -->.*?<!-- /settings -->",
        lambda _m: f"<!-- settings -->\n{settings_table()}\n<!-- /settings -->",
        text,
        flags=re.S,
    )

    def help_block(m: re.Match) -> str:
        named = m.group(1)
        opening = f"<!-- help: {named} -->" if named else "<!-- help -->"
        body = help_text(named.split() if named else None)
        return f"{opening}\n{body}\n<!-- /help -->"

    return HELP.sub(help_block, text)


if __name__ == "__main__":
    for path in FILES:
        path.write_text(render(path.read_text()))

"""Regenerate the README's settings table and `--help` sections from the code.

Run `python scripts/update_readme.py`; `tests/test_readme.py` fails when the README is stale.
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

COMMANDS = ["ingest", "ask", "eval", "calibrate", "serve", "status"]


def settings_table() -> str:
    rows = ["| variable | flag | default | what |", "|---|---|---|---|"]
    for name, _type, help_text, default, short in describe():
        flag = short or f"--{name.replace('_', '-')}"
        shown = {"threads": "(cores)", "cache_dir": "(~/.cache/docqa)"}.get(name, default)
        rows.append(f"| `{env_name(name)}` | `{flag}` | `{shown}` | {help_text} |")
    return "\n".join(rows)


def help_text() -> str:
    runner = CliRunner()
    blocks = []
    for args in [[], *([c] for c in COMMANDS)]:
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
    for marker, body in (("settings", settings_table()), ("help", help_text())):
        text = re.sub(
            rf"<!-- {marker} -->.*?<!-- /{marker} -->",
            lambda _m, marker=marker, body=body: f"<!-- {marker} -->\n{body}\n<!-- /{marker} -->",
            text,
            flags=re.S,
        )
    return text


if __name__ == "__main__":
    readme = ROOT / "README.md"
    readme.write_text(render(readme.read_text()))

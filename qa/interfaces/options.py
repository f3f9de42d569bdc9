"""What the commands share: settings as options (generated from ``qa.config``, each with
its ``QA_*`` variable), domain errors shown as one line with an exit code, and names printed
so that they cannot break or disguise a line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from qa.config import Settings, describe, env_name, load_settings
from qa.errors import QAError


class Group(click.Group):
    """Turns a domain error into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QAError as e:
            if shown := e.show():
                click.echo(shown, err=True)
            ctx.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


_TYPES = {"int": int, "float": float, "bool": bool, "Path": click.Path(path_type=Path), "str": str}


def settings_options(*names: str):
    """Add a flag for each named setting, documented from the settings object."""
    table = {name: rest for name, *rest in describe()}

    def decorate(fn):
        for name in reversed(names):
            type_name, help_text, default, short = table[name]
            flag = f"--{name.replace('_', '-')}"
            decls = [short] if short else [flag]
            if type_name == "bool":
                decls = [f"{flag}/--no-{name.replace('_', '-')}"]
            fn = click.option(
                *decls,
                name,
                type=_TYPES[type_name],
                default=None,
                envvar=env_name(name),
                show_envvar=True,
                help=f"{help_text} [default: {default}]" if default != "" else help_text,
            )(fn)
        return fn

    return decorate


def settings_from(values: dict[str, Any]) -> Settings:
    names = {name for name, *_ in describe()}
    return load_settings({k: v for k, v in values.items() if k in names})


STORE = ("index", "collection", "chroma_url", "embed_model")
MODEL = ("llm", "llm_model", "llm_path", "llm_base_url", "llm_api_key", "llm_timeout", "threads")
ANSWER = (
    *STORE,
    *MODEL,
    *(
        "k",
        "passage_chars",
        "max_tokens",
        "retrieval",
        "grounding",
        "judge",
        "decision",
        "min_confidence",
    ),
    "followups",
)
SERVE = (
    "api_key",
    "users",
    "session_secret",
    "session_hours",
    "secure_cookie",
    "audit_log",
    "max_upload_mb",
    "max_upload_files",
    "max_corpus_mb",
    "queue_cap",
    "asks_per_minute",
    "request_timeout",
    "watch_debounce",
    "watch_scan",
)

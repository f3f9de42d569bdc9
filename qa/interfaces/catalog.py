"""``qa collections``: the index's collections with their sizes, and who may ask each
(``allow``, ``deny``, ``open``; recorded in the index's ``collections.json``, read by a
running ``qa serve`` at each request)."""

from __future__ import annotations

from typing import Any

import click

from qa.errors import UsageError
from qa.interfaces.options import STORE, settings_from, settings_options
from qa.text import counted

# qa.interfaces.collections is imported where a command runs, so that `qa --help` stays quick.


@click.group(invoke_without_command=True)
@settings_options(*STORE)
@click.pass_context
def collections(ctx: click.Context, **values: Any) -> None:
    """List the index's collections with their files and chunks (ingest one with
    qa ingest PATH --collection NAME; ask one with --collection NAME). A collection limited
    to some users shows them; admins may ask every collection."""
    from qa.interfaces.collections import sizes

    ctx.obj = values
    if ctx.invoked_subcommand is not None:
        return
    for size in sizes(settings_from(values)):
        only = "" if size.users is None else "\tonly: " + (", ".join(size.users) or "admins")
        counts = f"{counted(size.files, 'file')}\t{counted(size.chunks, 'chunk')}"
        click.echo(f"{size.name}\t{counts}{only}")


def _settings(ctx: click.Context, values: dict[str, Any]):
    """The group's options (``qa collections --index DIR allow ...``), then the command's."""
    given = {k: v for k, v in values.items() if v is not None}
    return settings_from({**(ctx.obj or {}), **given})


def _said(name: str, settings) -> None:
    from qa.interfaces.collections import limited_to

    users = limited_to(settings, name)
    who = "everyone signed in" if users is None else ", ".join(users) or "no one"
    click.echo(f"{name}: {who} (and admins) may ask it", err=True)


@collections.command()
@click.argument("name")
@click.argument("names", nargs=-1, required=True, metavar="USER...")
@settings_options(*STORE, "users")
@click.pass_context
def allow(ctx: click.Context, name: str, names: tuple[str, ...], **values: Any) -> None:
    """Let USER... ask collection NAME; once a collection names users, only they (and admins)
    may ask it, list it, read or delete its documents, on the page, the API and MCP."""
    from qa.interfaces.collections import limit, limited_to
    from qa.interfaces.users import Users

    settings = _settings(ctx, values)
    known = Users(settings.users).all()
    for user in names:
        if user not in known:
            click.echo(f"note: no user {user!r} in {settings.users} (yet)", err=True)
    limit(settings, name, [*(limited_to(settings, name) or []), *names])
    _said(name, settings)


@collections.command()
@click.argument("name")
@click.argument("names", nargs=-1, required=True, metavar="USER...")
@settings_options(*STORE)
@click.pass_context
def deny(ctx: click.Context, name: str, names: tuple[str, ...], **values: Any) -> None:
    """Stop USER... asking collection NAME (limited with allow; admins always may)."""
    from qa.interfaces.collections import limit, limited_to

    settings = _settings(ctx, values)
    allowed = limited_to(settings, name)
    if allowed is None:
        raise UsageError(f"{name} is open to everyone signed in: name who may ask it with allow")
    limit(settings, name, [u for u in allowed if u not in names])
    _said(name, settings)


@collections.command("open")
@click.argument("name")
@settings_options(*STORE)
@click.pass_context
def open_(ctx: click.Context, name: str, **values: Any) -> None:
    """Open collection NAME to every signed-in user again."""
    from qa.interfaces.collections import limit

    settings = _settings(ctx, values)
    limit(settings, name, None)
    _said(name, settings)

"""``qa users``: who may use ``qa serve`` (the users file, ``QA_USERS``), and their tokens."""

from __future__ import annotations

from typing import Any

import click

from qa.interfaces.options import settings_from, settings_options
from qa.interfaces.users import GRANTS, Role, Users


def _users(values: dict[str, Any]) -> Users:
    return Users(settings_from(values).users)


@click.group()
def users() -> None:
    """Manage who may use `qa serve`: readers ask; editors also upload documents and save
    tests; admins also delete documents and re-index. Once the users file holds a user,
    everything the server serves but /login and /health needs a sign-in or a token."""


@users.command()
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.READER.value,
    show_default=True,
    help="What the user may do.",
)
@click.password_option(help="The password (asked for when not given; bcrypt-hashed).")
@settings_options("users")
def add(name: str, role: str, password: str, **values: Any) -> None:
    """Add user NAME, or set their role and password."""
    store = _users(values)
    user = store.add(name, Role(role), password)
    can = ", ".join(sorted(a.value for a in GRANTS[user.role]))
    click.echo(f"{user.name}: {user.role.value} (may {can}) in {store.path}", err=True)


@users.command(name="list")
@settings_options("users")
def list_(**values: Any) -> None:
    """Show each user, their role and how many API tokens they hold."""
    for user in _users(values).all().values():
        click.echo(f"{user.name}\t{user.role.value}\t{len(user.tokens)} token(s)")


@users.command()
@click.argument("name")
@settings_options("users")
def remove(name: str, **values: Any) -> None:
    """Remove user NAME: their sessions and tokens stop working at once."""
    _users(values).remove(name)
    click.echo(f"removed {name}", err=True)


@users.command()
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Revoke all of NAME's tokens instead.")
@settings_options("users")
def token(name: str, revoke: bool, **values: Any) -> None:
    """Issue an API token for NAME (Authorization: Bearer <token>), shown only this once."""
    store = _users(values)
    if revoke:
        click.echo(f"revoked {store.revoke_tokens(name)} token(s) of {name}", err=True)
        return
    click.echo(store.issue_token(name))

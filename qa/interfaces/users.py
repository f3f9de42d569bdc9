"""Who may use ``qa serve``: the users file, roles, hashed passwords and API tokens.

The file (``QA_USERS``) is JSON, written atomically and readable by its owner only::

    {"users": {"ana": {"role": "editor", "password": "$2b$12$...", "id": "5d41c0a7e2b94f1c",
                       "tokens": {"3f9a1c2e": "<sha-256 of the token>"}}}}

Passwords are hashed with bcrypt (they are short and guessable); API tokens are 256 random
bits, so a SHA-256 of each is enough and keeps every API call cheap. ``QA_API_KEY`` is one more
admin token, named ``api-key``. A user's ``id`` is minted when they are added and kept while
they stay: what they own (their conversations) is theirs, not their name's, so someone added
later under the same name starts with nothing (a user from before ids has none: their name).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import threading
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

import bcrypt

from qa.errors import UsageError


class Role(StrEnum):
    READER = "reader"
    EDITOR = "editor"
    ADMIN = "admin"


class Action(StrEnum):
    """What a request does, as the sentence a refusal shows ("ana (reader) may not upload")."""

    ASK = "ask"
    UPLOAD = "upload documents"
    SAVE_TEST = "save tests"
    REINDEX = "re-index"
    DELETE = "delete documents"


GRANTS: dict[Role, frozenset[Action]] = {
    Role.READER: frozenset({Action.ASK}),
    Role.EDITOR: frozenset({Action.ASK, Action.UPLOAD, Action.SAVE_TEST}),
    Role.ADMIN: frozenset(Action),
}
KEY_USER = "api-key"  # the name QA_API_KEY signs in as; no user may take it
NAME = re.compile(r"[a-z][a-z0-9._-]{0,31}")
MAX_PASSWORD = 72  # bytes: bcrypt reads no further, so a longer one is refused, not cut
TOKEN_PREFIX = "qa_"


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    password: str = ""  # bcrypt hash; "" for the key and the open server
    tokens: dict[str, str] = field(default_factory=dict)  # token id -> sha-256 hex
    id: str = ""  # minted by ``Users.add``; "" for the key, the open server and older files

    def can(self, action: Action) -> bool:
        return action in GRANTS[self.role]

    @property
    def owner(self) -> str:
        """Whose things (conversations) are this user's: the name and the id, so a later
        user of the same name owns none of them ('#' is in no name, so none is mistaken)."""
        return f"{self.name}#{self.id}" if self.id else self.name


ANYONE = User("anyone", Role.ADMIN)  # a server without credentials: everyone may do anything


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_id(token: str) -> str:
    """The id of an API token ``qa_<id>_<secret>`` ("" if it is not one)."""
    if not token.startswith(TOKEN_PREFIX):
        return ""
    return token[len(TOKEN_PREFIX) :].split("_", 1)[0]


class Users:
    """The users file; read again whenever it changes on disk, so ``qa users add`` takes
    effect on a running server."""

    def __init__(self, path: Path | None) -> None:
        self.path = path  # None: no users (a server open to all, or one with the key alone)
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._users: dict[str, User] = {}
        self._dummy = ""  # a hash to check unknown names against, made when first needed

    def all(self) -> dict[str, User]:
        if self.path is None:
            return {}
        with self._lock:
            try:
                st = self.path.stat()
            except FileNotFoundError:
                self._seen, self._users = None, {}
                return {}
            if self._seen != (st.st_mtime_ns, st.st_size):
                self._users = self._read()
                self._seen = (st.st_mtime_ns, st.st_size)
            return self._users

    def _read(self) -> dict[str, User]:
        try:
            raw = json.loads(self.path.read_text())["users"]
            return {
                name: User(
                    name, Role(u["role"]), u["password"], dict(u.get("tokens", {})), u.get("id", "")
                )
                for name, u in raw.items()
            }
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise UsageError(f"{self.path}: not a docqa users file ({e})") from None

    def _write(self, users: dict[str, User]) -> None:
        """Write the whole file to a temporary one beside it, then rename it into place."""
        if self.path is None:
            raise UsageError("no users file is configured (QA_USERS)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {
            n: {"role": u.role.value, "password": u.password, "tokens": u.tokens}
            | ({"id": u.id} if u.id else {})
            for n, u in sorted(users.items())
        }
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".users-")  # mode 0600
        with os.fdopen(fd, "w") as f:
            json.dump({"users": body}, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def add(self, name: str, role: Role, password: str) -> User:
        """Add ``name`` (with a new id) or replace its role and password (its id and tokens
        are kept)."""
        if not NAME.fullmatch(name) or name in (KEY_USER, ANYONE.name):
            raise UsageError(f"bad user name {name!r}: a-z, 0-9, '.', '_', '-', 32 at most")
        if not password or len(password.encode()) > MAX_PASSWORD:
            raise UsageError(f"the password must be 1 to {MAX_PASSWORD} bytes long")
        users = dict(self.all())
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()
        old = users.get(name)
        if old:
            users[name] = replace(old, role=Role(role), password=hashed)
        else:
            users[name] = User(name, Role(role), hashed, id=secrets.token_hex(8))
        self._write(users)
        return users[name]

    def remove(self, name: str) -> None:
        users = dict(self.all())
        if users.pop(name, None) is None:
            raise UsageError(f"no user {name!r} in {self.path}")
        self._write(users)

    def issue_token(self, name: str) -> str:
        """A new API token for ``name``, shown once; only its hash is kept."""
        users = dict(self.all())
        if name not in users:
            raise UsageError(f"no user {name!r} in {self.path}")
        token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
        token = f"{TOKEN_PREFIX}{token_id}_{secret}"
        user = users[name]
        tokens = {**user.tokens, token_id: _digest(token)}
        users[name] = replace(user, tokens=tokens)
        self._write(users)
        return token

    def revoke_tokens(self, name: str) -> int:
        users = dict(self.all())
        if name not in users:
            raise UsageError(f"no user {name!r} in {self.path}")
        user = users[name]
        users[name] = replace(user, tokens={})
        self._write(users)
        return len(user.tokens)

    def by_password(self, name: str, password: str) -> User | None:
        """The user if ``password`` is theirs. An unknown name costs the same bcrypt time, so
        timing does not tell which names exist."""
        user = self.all().get(name)
        given = password.encode()
        if len(given) > MAX_PASSWORD:
            return None
        if not user and not self._dummy:
            self._dummy = bcrypt.hashpw(b"not a password", bcrypt.gensalt()).decode()
        ok = bcrypt.checkpw(given, (user.password if user else self._dummy).encode())
        return user if ok and user else None

    def by_token(self, token: str) -> User | None:
        """The user owning ``token`` (``qa_<id>_<secret>``), compared in constant time."""
        if not (known := token_id(token)):
            return None
        digest = _digest(token)
        for user in self.all().values():
            kept = user.tokens.get(known)
            if kept and hmac.compare_digest(kept, digest):
                return user
        return None

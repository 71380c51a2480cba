"""Users and API tokens of the fake cluster (PVE's ``user.cfg`` and token secrets).

The API layer owns tickets and their signatures; the model only stores who may log in, with what, and the
per-cluster key the API signs tickets with.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pytest_pvemock.model import figures

DEFAULT_ROOT_PASSWORD = "pvemock"
REALMS = ("pam", "pve")


@dataclass
class Token:
    tokenid: str
    secret: str
    privsep: bool = True
    expire: int = 0
    comment: str = ""


@dataclass
class User:
    userid: str
    password: str | None = None
    enable: bool = True
    expire: int = 0
    groups: list[str] = field(default_factory=list)
    comment: str = ""
    email: str = ""
    firstname: str = ""
    lastname: str = ""
    tokens: dict[str, Token] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        return self.userid.rpartition("@")[2]

    def active(self, now: int) -> bool:
        return self.enable and (self.expire == 0 or self.expire > now)


class AccessStore:
    """Users, their passwords and tokens. ``root@pam`` exists from the start with the password ``pvemock``.

    The key tickets are signed with and the secrets of new API tokens are random for every store (as on a PVE
    node, whose ``authkey.key`` is made at installation), so a ticket or token of one fake cluster or server is
    refused by every other. Only a ``seed`` a test asks for makes them repeat, from run to run.
    """

    def __init__(self, seed: int | str | None = None, now: Callable[[], int] = lambda: 0) -> None:
        self._rng = figures.seeded(seed, "access") if seed is not None else None
        self._now = now
        self.ticket_secret: bytes = (
            self._rng.getrandbits(256).to_bytes(32, "big") if self._rng is not None else secrets.token_bytes(32)
        )
        self.users: dict[str, User] = {}
        self.add_user("root@pam", password=DEFAULT_ROOT_PASSWORD, comment="")

    def add_user(
        self,
        userid: str,
        password: str | None = None,
        enable: bool = True,
        expire: int = 0,
        groups: Iterable[str] = (),
        comment: str = "",
        email: str = "",
        firstname: str = "",
        lastname: str = "",
    ) -> User:
        if "@" not in userid:
            raise ValueError(f"userid {userid!r} needs a realm, e.g. {userid}@pve")
        user = User(
            userid=userid,
            password=password,
            enable=enable,
            expire=expire,
            groups=list(groups),
            comment=comment,
            email=email,
            firstname=firstname,
            lastname=lastname,
        )
        self.users[userid] = user
        return user

    def remove_user(self, userid: str) -> None:
        self.users.pop(userid, None)

    def check_password(self, username: str, password: str) -> str | None:
        """The userid when ``username`` (``user@realm``) may log in with ``password``, else ``None``."""
        user = self.users.get(username)
        if user is None or user.password is None or not user.active(self._now()):
            return None
        return user.userid if hmac.compare_digest(user.password, password) else None

    def add_token(
        self, userid: str, tokenid: str, privsep: bool = True, expire: int = 0, comment: str = "", secret: str = ""
    ) -> str:
        """Create an API token and return its secret (a UUID, shown once, as PVE does)."""
        user = self.users.get(userid)
        if user is None:
            raise KeyError(f"no such user ('{userid}')")
        if not secret:
            bits = self._rng.getrandbits(128) if self._rng is not None else secrets.randbits(128)
            secret = str(uuid.UUID(int=bits, version=4))
        user.tokens[tokenid] = Token(tokenid=tokenid, secret=secret, privsep=privsep, expire=expire, comment=comment)
        return secret

    def remove_token(self, userid: str, tokenid: str) -> None:
        user = self.users.get(userid)
        if user is not None:
            user.tokens.pop(tokenid, None)

    def check_token(self, userid: str, tokenid: str, secret: str) -> bool:
        user = self.users.get(userid)
        if user is None or not user.active(self._now()):
            return False
        token = user.tokens.get(tokenid)
        if token is None or (token.expire and token.expire <= self._now()):
            return False
        return hmac.compare_digest(token.secret, secret)

"""Reviewer accounts: scrypt password hashes, created from the command line, checked at sign-in."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from review.db import Reviewer

# scrypt cost: n=2**14, r=8 (16 MiB, ~50 ms), as OWASP recommends for interactive logins.
N, R, P = 2**14, 8, 1
SCHEME = "scrypt"
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    """`scrypt$n$r$p$salt$key`, salt and key in base64."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P)
    return "$".join([SCHEME, str(N), str(R), str(P), _b64(salt), _b64(key)])


def verify_password(password: str, stored: str) -> bool:
    scheme, n, r, p, salt, key = stored.split("$")
    if scheme != SCHEME:
        raise ValueError(f"unknown password hash scheme {scheme!r}")
    derived = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(derived, base64.b64decode(key))


def add_reviewer(session: Session, name: str, password: str) -> Reviewer:
    """A new account, or a new password for an existing one (an imported reviewer can then sign in)."""
    name = name.strip()
    if not name:
        raise ValueError("a reviewer needs a name")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    reviewer = session.scalar(select(Reviewer).where(Reviewer.name == name)) or Reviewer(name=name)
    reviewer.password_hash = hash_password(password)
    session.add(reviewer)
    session.flush()
    return reviewer


def authenticate(session: Session, name: str, password: str) -> Reviewer | None:
    """The reviewer when the password matches; None otherwise (also for accounts without one)."""
    reviewer = session.scalar(select(Reviewer).where(Reviewer.name == name.strip()))
    if reviewer is None or reviewer.password_hash is None:
        hash_password(password)  # the same work either way: timing does not reveal which names exist
        return None
    return reviewer if verify_password(password, reviewer.password_hash) else None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()

"""API tokens: issue one (shown once), verify a presented one, revoke, list.

Only the SHA-256 of a token is stored. Tokens are 256 random bits, so a plain (unsalted,
fast) hash is enough: there is nothing to brute-force, unlike a password. Lookup is by hash,
so verifying leaks no timing about stored tokens. Nothing here commits.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, or_, select, update
from sqlalchemy.orm import Session

from connectors.ops_store.column_types import utc_now
from connectors.ops_store.models import ApiToken, TokenRole, parse_enum

TOKEN_PREFIX = "tdm_"  # noqa: S105 - a public marker, not a secret
"""Marks Tidemark tokens, so secret scanners and humans recognise a leaked one."""

LAST_USED_RESOLUTION = timedelta(minutes=1)
"""`last_used_at` is refreshed at most this often: not one write per API call."""


class TokenNotFoundError(LookupError):
    """No API token has this id."""


@dataclass(frozen=True)
class IssuedToken:
    """A freshly created token: the stored row and the plaintext, which exists only here."""

    token: ApiToken
    plaintext: str = field(repr=False)


def hash_token(plaintext: str) -> str:
    """The SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_token(
    session: Session, *, name: str, role: TokenRole | str, now: datetime | None = None
) -> IssuedToken:
    """Issue a token with `role`; the plaintext is returned once and never stored."""
    if not name.strip():
        raise ValueError("API token needs a non-empty name")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        role=parse_enum(TokenRole, role, "token role"),
        token_hash=hash_token(plaintext),
        created_at=now or utc_now(),
    )
    session.add(token)
    session.flush()
    return IssuedToken(token=token, plaintext=plaintext)


def verify_token(session: Session, plaintext: str) -> ApiToken | None:
    """The live (not revoked) token matching `plaintext`, or None. Reads only.

    Noting the use is a separate write (`note_token_use`), so verifying never turns a read
    transaction into a write: on SQLite two requests doing that at once fail with "database
    is locked" instead of waiting their turn.
    """
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    return session.scalars(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(plaintext), ApiToken.revoked_at.is_(None)
        )
    ).one_or_none()


@dataclass(frozen=True)
class LiveToken:
    """What a request needs to know about the token it presented (no ORM object)."""

    id: int
    name: str
    role: TokenRole
    last_used_at: datetime | None


_LIVE_TOKEN_BY_HASH = select(
    ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.last_used_at
).where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None))
"""Built once: SQLAlchemy then reuses its compiled form on every request."""


def find_live_token(connection: Connection, plaintext: str) -> LiveToken | None:
    """`verify_token` for the per-request check: one prebuilt Core SELECT of four columns.

    Every API request verifies its token, so this skips the ORM session and entity loading
    (about three times the CPU of the query itself); the answer is the same as
    `verify_token`'s and is read from the database each time, so revocation is immediate.
    """
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    row = connection.execute(
        _LIVE_TOKEN_BY_HASH, {"token_hash": hash_token(plaintext)}
    ).one_or_none()
    if row is None:
        return None
    return LiveToken(id=row.id, name=row.name, role=row.role, last_used_at=row.last_used_at)


def use_needs_noting(token: ApiToken | LiveToken, *, now: datetime | None = None) -> bool:
    """Whether `last_used_at` is older than `LAST_USED_RESOLUTION` (or unset)."""
    moment = now or utc_now()
    return token.last_used_at is None or moment - token.last_used_at >= LAST_USED_RESOLUTION


def note_token_use(session: Session, token_id: int, *, now: datetime | None = None) -> bool:
    """Set `last_used_at` unless another request did within the resolution; True if set.

    One conditional UPDATE, so concurrent requests with the same token write at most once.
    """
    moment = now or utc_now()
    result = session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at <= moment - LAST_USED_RESOLUTION,
            ),
        )
        .values(last_used_at=moment)
    )
    return bool(getattr(result, "rowcount", 0))


def revoke_token(session: Session, token_id: int, *, now: datetime | None = None) -> ApiToken:
    """Revoke a token for good; revoking it again keeps the first revocation time."""
    token = session.get(ApiToken, token_id, populate_existing=True)
    if token is None:
        raise TokenNotFoundError(f"no API token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = now or utc_now()
        session.flush()
    return token


def list_tokens(session: Session, *, include_revoked: bool = True) -> list[ApiToken]:
    """Tokens in creation order (never their plaintext, which is not stored)."""
    query = select(ApiToken).order_by(ApiToken.id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(session.scalars(query))

"""Who is calling and what they may do: bearer tokens (or the dashboard cookie) and roles.

Roles are ordered: a viewer reads; a marketer also previews and triggers; an admin also
manages destinations, tokens, approvals and erasure. A route states the least role it needs
with `Depends(require(TokenRole.MARKETER))`; a missing or unknown token is 401, a role too
weak is 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from api.state import State
from connectors.ops_store.engine import write_transaction
from connectors.ops_store.models import TokenRole
from connectors.ops_store.tokens import find_live_token, note_token_use, use_needs_noting

SESSION_COOKIE = "tidemark_token"
"""The dashboards keep the signed-in token in this HttpOnly, SameSite=Strict cookie."""

ROLE_RANK = {TokenRole.VIEWER: 0, TokenRole.MARKETER: 1, TokenRole.ADMIN: 2}


@dataclass(frozen=True)
class Principal:
    """The caller: the token's id, its name (what audit entries record) and its role."""

    token_id: int
    name: str
    role: TokenRole

    @property
    def actor(self) -> str:
        """How audit entries name this caller (never the token itself)."""
        return f"token:{self.name}"

    def can(self, role: TokenRole) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


def presented_token(request: Request) -> str | None:
    """The token from `Authorization: Bearer …`, else from the dashboard cookie."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None
    return request.cookies.get(SESSION_COOKIE)


def authenticate(request: Request, state: State) -> Principal:
    """FastAPI dependency: the verified caller, or 401."""
    plaintext = presented_token(request)
    if plaintext is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with state.ops_engine.connect() as connection:
        token = find_live_token(connection, plaintext)
    if token is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "unknown or revoked token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = Principal(token_id=token.id, name=token.name, role=token.role)
    if use_needs_noting(token):
        with write_transaction(state.sessions) as session:
            note_token_use(session, principal.token_id)
    return principal


def require(role: TokenRole) -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting callers whose role is at least `role` (403 otherwise)."""

    # `async` (it awaits nothing) so FastAPI does not hop to its thread pool for a compare.
    async def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.can(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this needs the {role.value} role or higher"
            )
        return principal

    return dependency


Viewer = Annotated[Principal, Depends(require(TokenRole.VIEWER))]
Marketer = Annotated[Principal, Depends(require(TokenRole.MARKETER))]
Admin = Annotated[Principal, Depends(require(TokenRole.ADMIN))]
"""Handler parameter types: `def handler(caller: Marketer): ...` admits marketers and admins."""

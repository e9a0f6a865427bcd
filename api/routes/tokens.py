"""`/api/v1/tokens` (admin): list, create and revoke API tokens.

A token's plaintext appears once, in the answer that creates it; only its hash is stored,
and neither ever reaches a list, an audit entry or a log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.auth import Admin
from api.request_body import JsonApiRoute
from api.state import State
from connectors.ops_store.audit import record_audit
from connectors.ops_store.engine import write_transaction
from connectors.ops_store.models import ApiToken, TokenRole
from connectors.ops_store.tokens import TokenNotFoundError, create_token, list_tokens, revoke_token

router = APIRouter(prefix="/api/v1/tokens", tags=["tokens"], route_class=JsonApiRoute)


class TokenPublic(BaseModel):
    id: int
    name: str
    role: TokenRole
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenList(BaseModel):
    data: list[TokenPublic]
    count: int


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    role: TokenRole

    @field_validator("name")
    @classmethod
    def _has_a_visible_character(cls, name: str) -> str:
        # Python's notion of blank (str.strip), which the ops store applies: a regex `\S` lets
        # through control characters such as U+001F that strip() removes.
        if not name.strip():
            raise ValueError("the token name needs a visible character")
        return name


class TokenCreated(TokenPublic):
    token: str = Field(description="The bearer token; shown this once, store it now.")


def public(token: ApiToken) -> TokenPublic:
    return TokenPublic(
        id=token.id,
        name=token.name,
        role=token.role,
        created_at=token.created_at,
        revoked_at=token.revoked_at,
        last_used_at=token.last_used_at,
    )


def _audit_view(token: ApiToken) -> dict[str, object]:
    return public(token).model_dump(mode="json")


@router.get("")
def list_all(state: State, _caller: Admin) -> TokenList:
    with state.sessions() as session:
        data = [public(t) for t in list_tokens(session)]
    return TokenList(data=data, count=len(data))


@router.post("", status_code=status.HTTP_201_CREATED)
def create(state: State, caller: Admin, body: TokenCreate) -> TokenCreated:
    with write_transaction(state.sessions) as session:
        issued = create_token(session, name=body.name, role=body.role)
        record_audit(
            session,
            actor=caller.actor,
            action="token.create",
            resource_type="api_token",
            resource_id=str(issued.token.id),
            before=None,
            after=_audit_view(issued.token),
        )
        return TokenCreated(**public(issued.token).model_dump(), token=issued.plaintext)


@router.post("/{token_id}/revoke")
def revoke(
    state: State, caller: Admin, token_id: Annotated[int, Path(ge=1, le=2**62)]
) -> TokenPublic:
    """Revoke a token for good (revoking it again changes nothing)."""
    with write_transaction(state.sessions) as session:
        try:
            existing = session.get(ApiToken, token_id)
            before = _audit_view(existing) if existing is not None else None
            token = revoke_token(session, token_id)
        except TokenNotFoundError as error:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(error)) from error
        after = _audit_view(token)
        if before != after:
            record_audit(
                session,
                actor=caller.actor,
                action="token.revoke",
                resource_type="api_token",
                resource_id=str(token_id),
                before=before,
                after=after,
            )
        return public(token)
